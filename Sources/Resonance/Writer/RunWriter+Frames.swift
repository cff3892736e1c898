import Foundation
import Zarr

extension RunWriter {
    /// Appends a detector frame to field `field` of the open run, for the event `eventUID`.
    ///
    /// The frame becomes frame k of the array `runs/<run uid>/<field>` in the Zarr store
    /// (one chunk per frame, alone in its file or in a shard of many as
    /// ``Options/frameLayout`` says) and an `image_refs` row records where it is.
    ///
    /// ```swift
    /// let event = try writer.writeEvent(["energy": 285.0])
    /// try writer.writeFrame(eventUID: event, field: "ccd", frame: Frame<UInt16>(rows: 1024, columns: 1024, pixels: pixels))
    /// ```
    ///
    /// Refused with ``RunWriterError`` and nothing written: an empty frame, a pixel count that
    /// does not match the shape, a shape or dtype that differs from earlier frames of the
    /// field in this run, an event that is not an event of the open run, and a field name
    /// that could not be a Zarr node name (empty, "/", "\\", "..", a leading "." or "__").
    public func writeFrame<Element: FrameElement>(eventUID: String, field: String, frame: Frame<Element>) throws {
        guard frame.pixels.count == max(frame.rows, 0) * max(frame.columns, 0) else {
            throw RunWriterError.invalidFrame(
                field: field, reason: "\(frame.pixels.count) pixels do not fill a \(frame.rows)x\(frame.columns) frame")
        }
        // The frame's array is kept (not copied) until its frame is compressed.
        let pixels = frame.pixels
        try submitFrame(eventUID: eventUID, field: field, shape: [frame.rows, frame.columns], dtype: Element.frameDType,
                        byteCount: pixels.count * MemoryLayout<Element>.stride) { array in
            try pixels.withUnsafeBytes { try array.encodeInnerChunk($0) }
        }
    }

    /// Appends a frame given as raw pixels (row-major, native byte order), e.g. a detector
    /// driver's buffer. `shape` must be `[rows, columns]`. The pixels are copied once (the
    /// buffer is the caller's again when this returns) and compressed in the background.
    public func writeFrame(eventUID: String, field: String, shape: [Int], dtype: FrameDType, pixels: UnsafeRawBufferPointer) throws {
        try submitFrame(eventUID: eventUID, field: field, shape: shape, dtype: dtype, byteCount: pixels.count,
                        copy: pixels, encode: nil)
    }

    /// Checks a frame and hands it to the frame pipeline. Returns once the frame is queued:
    /// compressing and storing it, then queueing its image_refs row, happen in the background
    /// (``FrameStore``); a failure there is thrown by a later call.
    private func submitFrame(eventUID: String, field: String, shape: [Int], dtype: FrameDType, byteCount: Int,
                             copy raw: UnsafeRawBufferPointer? = nil,
                             encode: (@Sendable (ZarrArray) throws -> [UInt8]?)?) throws {
        try withLock {
            _ = try openParts()
            guard let run = openRun, let frames else { throw RunWriterError.noOpenRun }
            try checkFrameField(field)
            guard shape.count == 2 else {
                throw RunWriterError.invalidFrame(field: field, reason: "a frame must be 2-D (rows, columns); got shape \(shape)")
            }
            let (rows, columns) = (shape[0], shape[1])
            guard rows > 0, columns > 0 else {
                throw RunWriterError.invalidFrame(field: field, reason: "the frame is empty (shape \(rows)x\(columns))")
            }
            let (count, overflow) = rows.multipliedReportingOverflow(by: columns)
            guard !overflow, count.multipliedReportingOverflow(by: dtype.size).partialValue == byteCount else {
                throw RunWriterError.invalidFrame(
                    field: field, reason: "\(byteCount) bytes do not hold a \(rows)x\(columns) \(dtype.rawValue) frame")
            }
            guard UID.isValid(eventUID), try isEventOfOpenRun(eventUID) else {
                throw RunWriterError.eventNotInRun(eventUID: eventUID, runUID: run.uid)
            }
            var encoder = encode
            if let raw {
                let copied = [UInt8](raw)
                encoder = { array in try copied.withUnsafeBytes { try array.encodeInnerChunk($0) } }
            }
            try frames.submit(
                run: run.uid, field: field, rows: rows, columns: columns, dtype: dtype, byteCount: byteCount,
                codec: options.frameCodec, layout: options.frameLayout, eventUID: eventUID, encode: encoder!)
        }
    }
}
