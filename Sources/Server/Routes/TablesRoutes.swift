import Foundation
import Hummingbird
import Resonance
import ResonanceFormats

/// `GET /api/runs/{uid}/streams/{stream}/table?format=json|csv&fields=a,b&after_seq=N`:
/// a stream's events, columnar JSON or CSV, written by ResonanceFormats' `TableWriter`, so
/// the bytes are those of `resonance table --format columns|csv`. `fields` picks data
/// columns (`seq_num` and `time` always come first); `after_seq` gives only events with a
/// larger seq_num, for reading a live run incrementally.
///
/// With `after_seq` only the new rows are read (`Run.table(stream:after:)`, one index
/// walk), not the whole table: a live poll costs what it returns. Their columns are those
/// the new rows have, typed by their values, and a named field they lack comes as missing
/// values, since the stream's other fields are not read to check it; a field name is
/// checked (400 when unknown) on a read without `after_seq`, which a client makes first.
struct TablesRoutes: ServerRouteGroup {
    func addRoutes(to router: Router<ServerRequestContext>, environment: ServerEnvironment) {
        router.get("/api/runs/:uid/streams/:stream/table") { request, context in
            let uid = try context.parameters.require("uid")
            let streamName = try context.parameters.require("stream")
            let query = QueryParameters(request)
            let format: TableWriter.Format = try query.choice("format", ["json", "csv"], default: "json") == "csv" ? .csv : .columns
            let fields = try query.string("fields", maxLength: 8192).map { list in
                list.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            }
            let afterSeq = try query.int("after_seq", in: Int(Int64.min)...Int(Int64.max))
            return try await environment.responses.response(for: request) { try await environment.blocking.run {
                let (_, run) = try RunLocator.find(uid, in: environment.registry)
                guard run.stream(streamName) != nil else {
                    throw Problem.notFound("run \(run.uid) has no stream \(streamName.debugDescription) (it has \(run.streamNames.isEmpty ? "none" : run.streamNames.joined(separator: ", ")))")
                }
                var table = try afterSeq.map { try run.table(stream: streamName, after: Int64($0)) } ?? run.table(stream: streamName)
                if let fields {
                    if afterSeq == nil, let unknown = fields.first(where: { table.column($0) == nil }) {
                        throw Problem.badRequest("stream \(streamName.debugDescription) of run \(run.uid) has no field \(unknown.debugDescription) (it has \(table.columnNames.joined(separator: ", ")))")
                    }
                    table = table.selecting(fields)
                }
                var body: [UInt8] = []
                try TableWriter.write(table, as: format) { body += $0 }
                // A finished run's events never change: the same request gets the same bytes.
                return Responses.raw(body, contentType: format == .csv ? "text/csv; charset=utf-8" : "application/json",
                                     keptIn: environment.responses, for: request, immutable: run.answersNeverChange(requestedAs: uid))
            } }
        }
    }
}
