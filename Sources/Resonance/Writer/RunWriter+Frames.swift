import Foundation
import Zarr

extension RunWriter {
    /// Appends a detector frame to field `field` of the open run, for the event `eventUID`.
    ///
    /// The frame becomes frame k of the array `runs/<run uid>/<field>` in the Zarr store
    /// (one chunk per frame) and an `image_refs` row records where it is.
    ///
    /// ```swift
    /// let event = try writer.writeEvent(["energy": 285.0])
    /// try writer.writeImage(eventUID: event, field: "ccd", frame: Frame<UInt16>(rows: 1024, columns: 1024, pixels: pixels))
    /// ```
    ///
    /// Refused with ``RunWriterError`` and nothing written: an empty frame, a pixel count that
    /// does not match the shape, a shape or dtype that differs from earlier frames of the
    /// field in this run, an event that is not an event of the open run, and a field name
    /// that could not be a Zarr node name (empty, "/", "\\", "..", a leading "." or "__").
    public func writeImage<Element: FrameElement>(eventUID: String, field: String, frame: Frame<Element>) throws {
        guard frame.pixels.count == max(frame.rows, 0) * max(frame.columns, 0) else {
            throw RunWriterError.invalidFrame(
                field: field, reason: "\(frame.pixels.count) pixels do not fill a \(frame.rows)x\(frame.columns) frame")
        }
        try frame.pixels.withUnsafeBytes { pixels in
            try writeImage(eventUID: eventUID, field: field, shape: [frame.rows, frame.columns], dtype: Element.frameDType, pixels: pixels)
        }
    }

    /// Appends a frame given as raw pixels (row-major, native byte order), e.g. a detector
    /// driver's buffer, without copying it first. `shape` must be `[rows, columns]`.
    public func writeImage(eventUID: String, field: String, shape: [Int], dtype: FrameDType, pixels: UnsafeRawBufferPointer) throws {
        try withLock {
            _ = try openParts()
            guard let run = openRun, let frames else { throw RunWriterError.noOpenRun }
            try NameRules.checkPathComponent(field, kind: "field")
            do {
                try ZarrNodeName.validate(field)
            } catch {
                throw RunWriterError.invalidName(kind: "field", name: field, reason: "\(error)")
            }
            guard shape.count == 2 else {
                throw RunWriterError.invalidFrame(field: field, reason: "a frame must be 2-D (rows, columns); got shape \(shape)")
            }
            let (rows, columns) = (shape[0], shape[1])
            guard rows > 0, columns > 0 else {
                throw RunWriterError.invalidFrame(field: field, reason: "the frame is empty (shape \(rows)x\(columns))")
            }
            let (count, overflow) = rows.multipliedReportingOverflow(by: columns)
            guard !overflow, count.multipliedReportingOverflow(by: dtype.size).partialValue == pixels.count else {
                throw RunWriterError.invalidFrame(
                    field: field, reason: "\(pixels.count) bytes do not hold a \(rows)x\(columns) \(dtype.rawValue) frame")
            }
            guard UID.isValid(eventUID), try isEventOfOpenRun(eventUID) else {
                throw RunWriterError.eventNotInRun(eventUID: eventUID, runUID: run.uid)
            }
            let ref = try frames.append(
                run: run.uid, field: field, rows: rows, columns: columns, dtype: dtype, pixels: pixels,
                codec: options.frameCodec, eventUID: eventUID)
            try enqueueImageRef(ref)
        }
    }
}
