import Foundation
import Hummingbird
import Resonance
import ResonanceFormats

/// `GET /api/runs/{uid}/streams/{stream}/table?format=json|csv&fields=a,b&after_seq=N`:
/// a stream's events, columnar JSON or CSV. `fields` picks data columns (`seq_num` and
/// `time` always come first); `after_seq` gives only events with a larger seq_num, for
/// reading a live run incrementally.
struct TablesRoutes: ServerRouteGroup {
    func addRoutes(to router: Router<ServerRequestContext>, environment: ServerEnvironment) {
        router.get("/api/runs/:uid/streams/:stream/table") { request, context in
            let uid = try context.parameters.require("uid")
            let streamName = try context.parameters.require("stream")
            let query = QueryParameters(request)
            let format = try query.choice("format", ["json", "csv"], default: "json")
            let fieldList = try query.string("fields", maxLength: 8192)
            let afterSeq = try query.int("after_seq", in: Int(Int64.min)...Int(Int64.max))
            return try await environment.blocking.run {
                let (_, run) = try RunLocator.find(uid, in: environment.registry)
                guard run.stream(streamName) != nil else {
                    throw Problem.notFound("run \(run.uid) has no stream \(streamName.debugDescription) (it has \(run.streamNames.isEmpty ? "none" : run.streamNames.joined(separator: ", ")))")
                }
                let table = try run.table(stream: streamName)
                var columns = Array(table.columns.prefix(2))
                if let fieldList {
                    for name in fieldList.split(separator: ",").map({ String($0).trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
                        if name == "seq_num" || name == "time" { continue }
                        guard let column = table.column(name) else {
                            throw Problem.badRequest("stream \(streamName.debugDescription) of run \(run.uid) has no field \(name.debugDescription) (it has \(table.columnNames.joined(separator: ", ")))")
                        }
                        if !columns.contains(where: { $0.name == name }) { columns.append(column) }
                    }
                } else {
                    columns += table.fields
                }
                // seq_nums ascend: the rows after `after_seq` are a suffix.
                let seqNums = table.seqNums
                var first = 0
                if let afterSeq {
                    var lo = 0, hi = seqNums.count
                    while lo < hi {
                        let mid = (lo + hi) / 2
                        if seqNums[mid] <= Int64(afterSeq) { lo = mid + 1 } else { hi = mid }
                    }
                    first = lo
                }
                if fieldList == nil, afterSeq == nil {
                    // The whole table: ResonanceFormats' writer, as `resonance table` uses.
                    var body: [UInt8] = []
                    try TableWriter.write(table, as: format == "csv" ? .csv : .columns) { body += $0 }
                    return format == "csv" ? Responses.raw(body, contentType: "text/csv; charset=utf-8") : Responses.json(bytes: body)
                }
                let rows = first..<table.count
                if format == "csv" {
                    return Responses.raw(TableEncoding.csv(columns, rows: rows), contentType: "text/csv; charset=utf-8")
                }
                return Responses.json(bytes: TableEncoding.json(columns, rows: rows))
            }
        }
    }
}
