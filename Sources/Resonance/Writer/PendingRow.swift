/// A row waiting to be committed.
enum PendingRow: Sendable {
    case event(uid: String, streamUID: String, seqNum: Int64, time: Double, data: String, timestamps: String)
    case imageRef(ImageRefRow)
}
