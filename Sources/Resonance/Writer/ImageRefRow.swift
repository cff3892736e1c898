/// One `image_refs` row.
struct ImageRefRow: Sendable {
    var eventUID: String
    var field: String
    var zarrGroup: String
    var index: Int64
    var rows: Int64
    var columns: Int64
    var dtype: String
    var codec: String
}
