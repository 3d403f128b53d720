/// Recognises common file types by their first bytes, so that a wrong file
/// gets a useful message ("looks like a PNG image") instead of a parse error.
public enum FileKind {
    /// A short description of what `bytes` look like, or `nil` if unrecognised.
    public static func describe(_ bytes: UnsafeRawBufferPointer) -> String? {
        func starts(_ magic: [UInt8], at offset: Int = 0) -> Bool {
            bytes.count >= offset + magic.count && zip(magic, bytes[offset..<(offset + magic.count)]).allSatisfy { $0 == $1 }
        }
        if starts([0x89, 0x50, 0x4E, 0x47]) { return "a PNG image" }
        if starts([0xFF, 0xD8, 0xFF]) { return "a JPEG image" }
        if starts([0x47, 0x49, 0x46, 0x38]) { return "a GIF image" }
        if starts(Array("%PDF".utf8)) { return "a PDF document" }
        if starts([0x50, 0x4B, 0x03, 0x04]) { return "a ZIP archive (a PyTorch .pt, .npz or Keras file?)" }
        if starts([0x1F, 0x8B]) { return "a gzip archive" }
        if starts([0x89, 0x48, 0x44, 0x46]) { return "an HDF5 file (a Keras .h5 model?)" }
        if starts([0x89, 0x53, 0x57, 0x4D, 0x0D, 0x0A, 0x1A, 0x0A]) { return "a ModelInfo .swm model" }
        if starts(Array("GGUF".utf8)) { return "a GGUF model" }
        if starts(Array("TFL3".utf8), at: 4) { return "a TensorFlow Lite model" }
        if starts([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]) { return "a NumPy .npy array" }
        if starts([0x80]) && bytes.count > 1 && (2...5).contains(bytes[1]) { return "a Python pickle" }
        if bytes.count >= 9, starts(Array("{".utf8), at: 8) { return "a safetensors file" }
        if bytes.prefix(64).allSatisfy({ (0x20...0x7E).contains($0) || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            return "a text file"
        }
        return nil
    }
}
