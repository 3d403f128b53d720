/// A problem with a model file or graph, located as precisely as we know.
///
/// Rendered as one line: `resnet.onnx: truncated at byte 1234 inside ModelProto.graph.node[12]`.
/// Code that must tell problems apart decides by `kind`, never by the message.
public struct ModelError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What sort of problem this is.
    public enum Kind: Sendable, Equatable {
        /// The bytes break the file format: truncated, a bad length, tag or checksum.
        case malformed
        /// A well-formed model whose graph, attributes, shapes or values break a rule of ONNX or of an operator.
        case invalidGraph
        /// Valid, but beyond what this project implements. `op` names an operator that has
        /// no implementation at all, `dtype` an element type that is the reason; both are
        /// nil for a missing feature (a training mode, a rank, a file-format option).
        case unsupported(op: String?, dtype: DType?)
        /// A size beyond a limit: one this project sets, a format's own (protobuf's 2 GB), or the machine's memory.
        case limit
        /// The operating system refused: a file could not be opened, mapped or written.
        case io
        /// Values given to a model that do not fit its declaration: an input of the wrong element type, rank or size.
        case invalidInput
        /// A request that is incomplete or names what is not there: an option naming an input the model
        /// lacks, an open input dimension nothing gives a value, an unknown zoo model. The CLI exits 2.
        case usage
        /// A broken invariant of this project, that is, a bug here.
        case `internal`
    }

    /// What sort of problem this is.
    public var kind: Kind
    /// What went wrong, without the location.
    public var message: String
    /// The file the problem is in, as the user named it.
    public var file: String?
    /// Byte offset in `file` where the problem was found.
    public var byteOffset: Int?
    /// Where in the model: a protobuf path (`ModelProto.graph.node[12]`) or a node (`node 'conv1' (Conv)`).
    public var location: String?

    public init(_ kind: Kind, _ message: String, file: String? = nil, byteOffset: Int? = nil, location: String? = nil) {
        self.kind = kind
        self.message = message
        self.file = file
        self.byteOffset = byteOffset
        self.location = location
    }

    /// The same error, attributed to `file` unless it already names one.
    public func inFile(_ path: String) -> ModelError {
        var copy = self
        if copy.file == nil { copy.file = path }
        return copy
    }

    public var description: String {
        var text = ""
        if let file { text += "\(file): " }
        text += message
        if let byteOffset { text += " at byte \(byteOffset)" }
        if let location { text += " inside \(location)" }
        return Self.singleLine(text)
    }

    /// Names inside messages come from the file and may hold newlines or
    /// other control characters; escape them so an error stays one line.
    static func singleLine(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value):
                result += "\\u{\(String(scalar.value, radix: 16))}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
