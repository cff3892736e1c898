/// Python code the image tests run: read PNG and TIFF files with Pillow when it is
/// installed, else with the small independent readers below (zlib + struct), so the
/// checks never depend on this project's own writers.
enum FrameChecks {
    /// Defines `read_png(path) -> (mode, width, height, bytes)` and
    /// `read_tiff(path) -> numpy array` (and `HAVE_PIL`).
    static let python = #"""
        import struct, zlib
        import numpy as np
        try:
            from PIL import Image
            HAVE_PIL = True
        except ImportError:
            HAVE_PIL = False

        def _png_chunks(data):
            assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
            pos = 8
            while pos < len(data):
                (length,) = struct.unpack(">I", data[pos:pos + 4])
                kind = data[pos + 4:pos + 8]
                body = data[pos + 8:pos + 8 + length]
                (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
                assert zlib.crc32(kind + body) == crc, "bad CRC in " + kind.decode()
                yield kind, body
                pos += 12 + length

        def _png_plain(path):
            chunks = list(_png_chunks(open(path, "rb").read()))
            assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
            w, h, depth, color, comp, filt, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
            assert depth == 8 and color in (0, 2) and interlace == 0
            channels = 1 if color == 0 else 3
            raw = zlib.decompress(b"".join(b for k, b in chunks if k == b"IDAT"))
            stride = w * channels
            out = bytearray()
            prev = bytearray(stride)
            for y in range(h):
                f = raw[y * (stride + 1)]
                line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
                for i in range(stride):
                    a = line[i - channels] if i >= channels else 0
                    b = prev[i]
                    c = prev[i - channels] if i >= channels else 0
                    if f == 1: line[i] = (line[i] + a) & 255
                    elif f == 2: line[i] = (line[i] + b) & 255
                    elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
                    elif f == 4:
                        p = a + b - c
                        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                        line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
                out += line
                prev = line
            return ("L" if color == 0 else "RGB"), w, h, bytes(out)

        def read_png(path):
            if HAVE_PIL:
                im = Image.open(path)
                im.load()
                return im.mode, im.width, im.height, im.tobytes()
            return _png_plain(path)

        def _tiff_plain(path):
            data = open(path, "rb").read()
            assert data[:4] == b"II*\x00", "not a little-endian TIFF"
            (ifd,) = struct.unpack("<I", data[4:8])
            (n,) = struct.unpack("<H", data[ifd:ifd + 2])
            tags = {}
            for k in range(n):
                tag, kind, count, value = struct.unpack("<HHII", data[ifd + 2 + 12 * k:ifd + 14 + 12 * k])
                if kind == 3 and count == 1:
                    value &= 0xFFFF
                tags[tag] = value
            fmt = {1: "u", 2: "i", 3: "f"}[tags.get(339, 1)]
            bits = tags[258]
            assert tags[259] == 1 and tags[262] in (0, 1) and tags.get(277, 1) == 1
            for required in (256, 257, 258, 273, 278, 279, 282, 283, 296):
                assert required in tags, "missing baseline tag %d" % required
            dtype = np.dtype("<%s%d" % (fmt, bits // 8))
            rows, cols = tags[257], tags[256]
            start, length = tags[273], tags[279]
            assert length == rows * cols * dtype.itemsize
            return np.frombuffer(data[start:start + length], dtype=dtype).reshape(rows, cols)

        def read_tiff(path):
            if HAVE_PIL:
                return np.array(Image.open(path))
            return _tiff_plain(path)
        """#
}
