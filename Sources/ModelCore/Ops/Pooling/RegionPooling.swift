/// `RoiAlign` and `MaxRoiPool`: a fixed-size feature map per region of interest.
///
/// RoiAlign with a positive `sampling_ratio` s averages (or takes the maximum
/// of) s² bilinear samples per output element: 8 FLOPs each (7 to
/// interpolate, 1 to accumulate). With an adaptive ratio, and for
/// MaxRoiPool, the work depends on the regions' sizes: uncounted.
public struct RegionPooling: OpSchema {
    /// Height and width of each region's output map.
    public let outputSize: [Int]
    /// RoiAlign's samples per bin side; 0 (adaptive) and MaxRoiPool leave the count to the data.
    public let samplingRatio: Int
    /// RoiAlign's `mode` "max" (else "avg") over a bin's samples.
    public let takesMaximum: Bool
    /// `spatial_scale`: from region coordinates to X's elements.
    public let spatialScale: Float
    /// RoiAlign's `coordinate_transformation_mode` "half_pixel" (the default from opset 16; else "output_half_pixel"):
    /// element centres lie at +0.5, and regions are not widened to at least one element.
    public let halfPixel: Bool
    let reader: AttributeReader

    public init(node: Node, opset: Int) throws(ModelError) {
        reader = AttributeReader(node)
        if node.opType == "MaxRoiPool" {
            guard let pooled = try reader.ints("pooled_shape"), pooled.count == 2 else {
                throw reader.error("pooled_shape must give a height and a width")
            }
            outputSize = pooled
            samplingRatio = 0
            takesMaximum = true
            spatialScale = try reader.float("spatial_scale", default: 1)
            halfPixel = false
            try reader.expectInputs(2...2)
        } else {
            outputSize = [try reader.int("output_height", default: 1), try reader.int("output_width", default: 1)]
            samplingRatio = try reader.int("sampling_ratio", default: 0)
            let mode = try reader.string("mode", default: "avg")
            guard mode == "avg" || mode == "max" else { throw reader.error("unknown mode '\(mode)'") }
            takesMaximum = mode == "max"
            spatialScale = try reader.float("spatial_scale", default: 1)
            let transform = try reader.string("coordinate_transformation_mode", default: opset >= 16 ? "half_pixel" : "output_half_pixel")
            guard transform == "half_pixel" || transform == "output_half_pixel" else {
                throw reader.error("unknown coordinate_transformation_mode '\(transform)'")
            }
            halfPixel = transform == "half_pixel"
            guard samplingRatio >= 0 else { throw reader.error("sampling_ratio must not be negative") }
            try reader.expectInputs(3...3)
        }
        guard outputSize.allSatisfy({ $0 > 0 }) else { throw reader.error("the output size must be positive, got \(outputSize)") }
    }

    public func infer(_ inputs: [ValueFact?]) throws(ModelError) -> [ValueFact] {
        let x = inputs[input: 0]
        var channels = Dim.unknown, regions = Dim.unknown
        if let xs = x?.shape {
            guard xs.rank == 4 else { throw reader.error("X must have rank 4, got \(xs.rank)") }
            channels = xs.dims[1]
        }
        if let rois = inputs[input: 1]?.shape {
            guard rois.rank == 2 else { throw reader.error("rois must have rank 2, got \(rois.rank)") }
            regions = rois.dims[0]
        }
        if let indices = inputs[input: 2]?.shape, indices.rank == 1 {
            regions = try SequenceModels.same(regions, indices.dims[0], "region count", reader)
        }
        return [ValueFact(dtype: x?.dtype, shape: Shape([regions, channels] + outputSize.map(Dim.known)))]
    }

    public func cost(_ inputs: [ValueFact?], _ outputs: [ValueFact]) -> OpCost? {
        guard samplingRatio > 0, let count = outputs.first?.elementCount,
              let perOutput = Count.product(samplingRatio, samplingRatio, 8) else { return nil }
        return .elementwise(count, perElement: perOutput)
    }

    /// Regions and their batch indices are data.
    public func holdsParameters(input index: Int) -> Bool { false }
}
