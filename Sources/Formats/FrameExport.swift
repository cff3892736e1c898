import Resonance

/// The file formats `frames --export` writes, one file per frame.
public enum FrameExportFormat: String, CaseIterable, Sendable {
    /// The exact pixels as a NumPy .npy file (numpy.load gives the stored dtype and shape).
    case npy
    /// The exact pixels as a baseline uncompressed grayscale TIFF.
    case tiff
    /// A log-scaled 8-bit grayscale quick-look image (see ``QuickLook``).
    case png

    /// The file name extension.
    public var fileExtension: String { rawValue }

    /// The file for one frame whose native-order pixel bytes are `raw`.
    public func encode(_ raw: UnsafeRawBufferPointer, dtype: FrameDType, rows: Int, columns: Int) throws -> [UInt8] {
        switch self {
        case .npy: return NPYWriter.encode(dtype: dtype, shape: [rows, columns], data: raw)
        case .tiff: return try TIFFWriter.encode(dtype: dtype, rows: rows, columns: columns, data: raw)
        case .png: return try QuickLook.png(raw, dtype: dtype, rows: rows, columns: columns)
        }
    }

    /// "ccd-0007.npy": the index zero-padded to `width` digits so names sort in frame order.
    public static func fileName(field: String, index: Int, width: Int, format: FrameExportFormat) -> String {
        let digits = String(index)
        let safe = String(field.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
        return "\(safe)-\(String(repeating: "0", count: max(0, width - digits.count)))\(digits).\(format.fileExtension)"
    }
}
