internal import CCrypto
import ModelCore

/// Where a `.swm` file came from (its `PROV` section): the source file's name
/// and SHA-256, and the converter and options that made it.
public struct Provenance: Sendable, Equatable {
    /// The source file's name, without its folder.
    public var sourceName: String
    /// Lower-case hex SHA-256 of the source file's bytes.
    public var sourceSHA256: String
    /// The program and version that wrote the file, e.g. `modelinfo 0.5.0`.
    public var converter: String
    /// The conversion options, as given on the command line.
    public var options: String
    /// Entries under keys this version does not know, kept as read.
    public var other: [MetadataEntry]

    public init(sourceName: String, sourceSHA256: String, converter: String, options: String, other: [MetadataEntry] = []) {
        self.sourceName = sourceName
        self.sourceSHA256 = sourceSHA256
        self.converter = converter
        self.options = options
        self.other = other
    }

    static let keys = (source: "source", sha256: "source-sha256", converter: "converter", options: "options")

    func encoded() -> [UInt8] {
        var w = ByteWriter()
        let entries = [MetadataEntry(key: Self.keys.source, value: sourceName),
                       MetadataEntry(key: Self.keys.sha256, value: sourceSHA256),
                       MetadataEntry(key: Self.keys.converter, value: converter),
                       MetadataEntry(key: Self.keys.options, value: options)] + other
        w.count(entries.count)
        for e in entries {
            w.string(e.key)
            w.string(e.value)
        }
        return w.bytes
    }

    static func decode(_ r: inout ByteReader) throws(ModelError) -> Provenance {
        let entries = try r.list(of: "provenance entry") { r throws(ModelError) in
            MetadataEntry(key: try r.string(of: "key"), value: try r.string(of: "value"))
        }
        var result = Provenance(sourceName: "", sourceSHA256: "", converter: "", options: "")
        for e in entries {
            switch e.key {
            case keys.source: result.sourceName = e.value
            case keys.sha256: result.sourceSHA256 = e.value
            case keys.converter: result.converter = e.value
            case keys.options: result.options = e.value
            default: result.other.append(e)
            }
        }
        guard r.isAtEnd else { throw r.error("\(r.remaining) unexpected bytes after the provenance entries") }
        return result
    }
}

/// SHA-256 digests, through libcrypto.
public enum SHA256 {
    /// The lower-case hex digest of `bytes`.
    public static func hex(of bytes: UnsafeRawBufferPointer) -> String {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        digest.withUnsafeMutableBufferPointer { out in
            _ = CCrypto.SHA256(base, bytes.count, out.baseAddress)
        }
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: digest.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
    }
}
