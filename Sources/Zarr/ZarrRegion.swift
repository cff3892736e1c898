/// A box of elements: where it starts and how many elements it spans along each dimension.
///
/// ```swift
/// // frames 10..<14 of a (frames, rows, cols) array
/// let region = ZarrRegion(start: [10, 0, 0], shape: [4, rows, cols])
/// let same = ZarrRegion([10..<14, 0..<rows, 0..<cols])
/// ```
public struct ZarrRegion: Sendable, Hashable, CustomStringConvertible {
    /// First element index along each dimension.
    public var start: [Int]
    /// Number of elements along each dimension.
    public var shape: [Int]

    /// A region from its first index and its extent per dimension.
    public init(start: [Int], shape: [Int]) {
        self.start = start
        self.shape = shape
    }

    /// A region from one half-open range per dimension.
    public init(_ ranges: [Range<Int>]) {
        start = ranges.map(\.lowerBound)
        shape = ranges.map(\.count)
    }

    /// The whole of an array of `shape`.
    public static func whole(_ shape: [Int]) -> ZarrRegion {
        ZarrRegion(start: Array(repeating: 0, count: shape.count), shape: shape)
    }

    /// Number of elements in the region (0 if any extent is 0).
    public var elementCount: Int { shape.reduce(1, *) }

    /// One past the last index along each dimension.
    public var end: [Int] { zip(start, shape).map { $0 + $1 } }

    public var description: String {
        "[" + zip(start, shape).map { "\($0)..<\($0 + $1)" }.joined(separator: ", ") + "]"
    }
}
