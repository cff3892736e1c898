import GRDB

/// The seq_num of the event each frame of a field belongs to, in the order
/// ``Resonance/FrameSequence`` yields the frames.
///
/// FrameSequence does not expose its image_refs rows, so this reads them again through a
/// read-only connection (the Catalog has already vetted the file) and orders them the
/// same way: arrays in the order their first frame was written, then by index in the array.
enum FrameEvents {
    static func seqNums(db: String, runUID: String, field: String) throws -> [Int64] {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(10)
        let queue = try DatabaseQueue(path: db, configuration: config)
        defer { try? queue.close() }
        let rows = try queue.read { db in
            try Row.fetchAll(db, sql: """
                SELECT i.zarr_group, i.index_in_stack, e.seq_num FROM image_refs i
                JOIN events e ON e.uid = i.event_uid JOIN streams st ON st.uid = e.stream_uid
                WHERE st.run_uid = ? AND i.field_name = ? ORDER BY i.id
                """, arguments: [runUID, field])
        }
        var arrayOrder: [String: Int] = [:]
        var located: [(array: Int, index: Int, seqNum: Int64)] = []
        for row in rows {
            let group: String = row["zarr_group"]
            let array = arrayOrder[group] ?? arrayOrder.count
            arrayOrder[group] = array
            located.append((array, row["index_in_stack"], row["seq_num"]))
        }
        located.sort { ($0.array, $0.index) < ($1.array, $1.index) }
        return located.map(\.seqNum)
    }
}
