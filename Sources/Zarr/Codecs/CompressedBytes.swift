/// A compressor's output: `write` fills a worst-case-sized scratch buffer and returns how
/// many bytes it produced; the result is copied into an array of exactly that size so
/// callers holding many encoded chunks do not keep the worst-case capacity around.
func compressedBytes(capacity: Int, _ write: (UnsafeMutableRawBufferPointer) throws -> Int) throws -> [UInt8] {
    let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: max(capacity, 1), alignment: 16)
    defer { scratch.deallocate() }
    let count = try write(UnsafeMutableRawBufferPointer(rebasing: scratch[0..<capacity]))
    return [UInt8](UnsafeRawBufferPointer(rebasing: scratch[0..<count]))
}
