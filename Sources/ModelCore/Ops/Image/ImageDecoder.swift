/// `ImageDecoder`: decodes an encoded image into [height, width, channels] uint8.
///
/// The size is in the data; decoding is not counted (uncounted).
public struct ImageDecoder: OpSchema {
    /// 3 for RGB and BGR, 1 for Grayscale.
    public let channels: Int

    public init(node: Node, opset: Int) throws(ModelError) {
        let reader = AttributeReader(node)
        let format = try reader.string("pixel_format", default: "RGB")
        switch format {
        case "RGB", "BGR": channels = 3
        case "Grayscale": channels = 1
        default: throw reader.error("unknown pixel_format '\(format)'")
        }
        try reader.expectInputs(1...1)
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        [ValueFact(dtype: .uint8, shape: Shape([.unknown, .unknown, .known(channels)]))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? { nil }
}
