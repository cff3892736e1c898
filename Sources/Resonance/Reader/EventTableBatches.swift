extension Run {
    /// The events of a stream in tables of at most `rows` events, in seq_num order, so a
    /// reader of a run of millions of events holds one batch at a time.
    ///
    /// Every batch has the columns, in the order and of the kinds, that ``table(stream:)``
    /// gives for the whole stream, so writing the batches one after the other writes what
    /// the whole table would. That takes a first pass over the batches to learn the columns
    /// (a stream of one batch is read once). Events a writer commits after the first pass
    /// are left for the next read. In the one case batches cannot match the whole table
    /// (a field holding numbers in some events and text or booleans in others, which the
    /// whole table shows as JSON text), `body` gets the whole table at once.
    ///
    /// ```swift
    /// try run.forEachTableBatch(stream: "primary") { batch in
    ///     for row in batch.rows { print(row.seqNum, row.values) }
    /// }
    /// ```
    public func forEachTableBatch(stream: String = "primary", rows: Int = 65_536, _ body: (EventTable) throws -> Void) throws {
        precondition(rows > 0, "a batch holds at least one event")
        let first = try table(stream: stream, seqNums: .min ... .max, limit: rows)
        guard first.count == rows, var last = first.seqNums.last else { return try body(first) }

        var layout = BatchLayout()
        layout.add(first)
        while true {
            let next = try table(stream: stream, after: last, limit: rows)
            guard let end = next.seqNums.last else { break }
            layout.add(next)
            last = end
            if next.count < rows { break }
        }
        guard layout.isStreamable else {
            return try body(table(stream: stream, seqNums: .min ... last))
        }
        var batch = first
        while true {
            try body(layout.conform(batch))
            guard batch.count == rows, let end = batch.seqNums.last, end < last else { break }
            batch = try table(stream: stream, seqNums: end + 1 ... last, limit: rows)
        }
    }
}

/// The columns of a whole stream, learnt batch by batch: names in first-seen order and the
/// kinds of the values each holds.
struct BatchLayout {
    private(set) var names: [String] = []
    private var kinds: [String: Set<EventColumn.Kind>] = [:]

    mutating func add(_ batch: EventTable) {
        for column in batch.fields {
            if kinds[column.name] == nil {
                names.append(column.name)
                kinds[column.name] = []
            }
            // A column with no value in this batch says nothing of the field's kind.
            if column.missingCount < column.count { kinds[column.name]!.insert(column.kind) }
        }
    }

    /// Whether each field's kind is one the batches can share: one kind, or integers and
    /// floats (floats, as the whole table has them).
    var isStreamable: Bool {
        kinds.values.allSatisfy { $0.count <= 1 || $0 == [.int64, .double] }
    }

    /// The kind a field has in the whole table (an all-missing field: double).
    func kind(of name: String) -> EventColumn.Kind {
        let seen = kinds[name] ?? []
        return seen.count == 1 ? seen.first! : .double
    }

    /// `batch` with exactly the whole table's field columns, in its order and kinds.
    func conform(_ batch: EventTable) -> EventTable {
        let fields = names.map { name -> EventColumn in
            let column = batch.column(name)
            switch (column?.storage, kind(of: name)) {
            case (let storage?, let kind) where column!.kind == kind:
                return EventColumn(name: name, storage: storage, present: column!.present)
            case (.int64(let values)?, .double):
                return EventColumn(name: name, storage: .double(values.map(Double.init)), present: column!.present)
            default:  // absent from this batch, or no value in it
                return EventColumn.missing(name: name, kind: kind(of: name), count: batch.count)
            }
        }
        return EventTable(stream: batch.stream, seqNums: batch.seqNums, times: batch.times, fields: fields)
    }
}

extension EventColumn {
    /// A column of `count` rows with no value.
    static func missing(name: String, kind: Kind, count: Int) -> EventColumn {
        let storage: Storage
        switch kind {
        case .int64: storage = .int64(Array(repeating: 0, count: count))
        case .double: storage = .double(Array(repeating: .nan, count: count))
        case .string: storage = .string(Array(repeating: "", count: count))
        case .bool: storage = .bool(Array(repeating: false, count: count))
        }
        return EventColumn(name: name, storage: storage, present: Array(repeating: false, count: count))
    }
}
