#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ModelCore

// MARK: - Resize

/// Resize (and the older Upsample): resampling along some axes to sizes
/// given directly or as scales. Nearest sampling copies elements of any
/// type through index tables; linear and cubic interpolation run axis by
/// axis in double precision (the filters are separable), the antialiased
/// variants widening the filter when downscaling.
struct ResizeKernel: Kernel {
    let mode: Interpolation
    let axes: [Int]?
    let keepAspectRatioPolicy: String
    let coordinateMode: String
    let nearestMode: String
    let cubicA: Double
    let excludeOutside: Bool
    let extrapolation: Double
    let antialias: Bool
    /// Input positions of the region of interest, scales and sizes (Resize), when the operator version has them.
    let roiIndex: Int?
    let scalesIndex: Int?
    let sizesIndex: Int?
    /// Scales from the attributes of Upsample before opset 9.
    let scalesAttribute: [Double]?

    init(_ schema: Resize, _ setup: KernelSetup) throws(ModelError) {
        mode = schema.mode
        axes = schema.axes
        keepAspectRatioPolicy = schema.keepAspectRatioPolicy
        coordinateMode = schema.coordinateMode
        nearestMode = schema.nearestMode
        cubicA = Double(schema.cubicA)
        excludeOutside = schema.excludeOutside
        extrapolation = Double(schema.extrapolation)
        antialias = schema.antialias
        (roiIndex, scalesIndex, sizesIndex) = setup.opset < 11 ? (nil, 1, nil) : (1, 2, 3)
        scalesAttribute = nil
        try Self.check(coordinateMode: coordinateMode, nearestMode: nearestMode)
    }

    init(_ schema: Upsample, _ setup: KernelSetup) throws(ModelError) {
        mode = schema.mode
        axes = nil
        keepAspectRatioPolicy = "stretch"
        coordinateMode = "asymmetric"
        nearestMode = "floor"
        cubicA = -0.75
        excludeOutside = false
        extrapolation = 0
        antialias = false
        (roiIndex, scalesIndex, sizesIndex) = (nil, schema.scalesAttribute == nil ? 1 : nil, nil)
        scalesAttribute = schema.scalesAttribute
    }

    private static func check(coordinateMode: String, nearestMode: String) throws(ModelError) {
        let modes = ["half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_crop_and_resize"]
        guard modes.contains(coordinateMode) else { throw ModelError(.invalidGraph, "unknown coordinate_transformation_mode '\(coordinateMode)'") }
        guard ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"].contains(nearestMode) else {
            throw ModelError(.invalidGraph, "unknown nearest_mode '\(nearestMode)'")
        }
    }

    /// How one axis is resampled.
    struct AxisPlan {
        let input: Int
        let output: Int
        let scale: Double
        let roi: (start: Double, end: Double)

        /// Whether the axis is left as it is.
        var isIdentity: Bool { output == input && abs(scale - 1) <= 1e-9 && roi.start == 0 && roi.end == 1 }
    }

    func run(_ inputs: [EngineTensor?], _ context: ExecutionContext) throws(ModelError) -> [EngineTensor?] {
        let x = try requiredInput(inputs, 0, "X")
        let plans = try axisPlans(x.shape, inputs)
        if mode == .nearest {
            let fill = try ElementNumbers.element(extrapolation, dtype: x.dtype)
            let strides = Shape.strides(x.shape)
            return [try ShapeKernels.tableCopy(x, dims: plans.map(\.output), fill: fill, context: context) { a in
                plans[a].isIdentity ? ShapeKernels.wholeAxis(x.shape[a], stride: strides[a])
                    : (0..<plans[a].output).map { j in nearest(j, plans[a]).map { $0 * strides[a] } ?? -1 }
            }]
        }
        // Intermediate results are at most as large as the larger of input and output on every axis.
        let largest = try ShapeKernels.count(plans.map { max($0.input, $0.output) })
        guard largest.multipliedReportingOverflow(by: MemoryLayout<Double>.size).overflow == false else {
            throw ModelError(.limit, "resizing \(x.shape) to \(plans.map(\.output)) is too large")
        }
        if try ShapeKernels.count(plans.map(\.output)) == 0 {
            return [try ElementOutput(dtype: x.dtype, shape: plans.map(\.output)).tensor]
        }
        let read = try ElementNumbers.reader(x.dtype), write = try ElementNumbers.writer(x.dtype)
        let output = try EngineTensor(dtype: x.dtype, shape: plans.map(\.output))
        // Leading axes that keep their size hold independent slices, resampled one by one in parallel.
        let first = plans.firstIndex { !$0.isIdentity } ?? plans.count
        let slicePlans = Array(plans[first...])
        let slices = x.shape[..<first].reduce(1, *)
        let sliceInput = slicePlans.map(\.input).reduce(1, *), sliceOutput = slicePlans.map(\.output).reduce(1, *)
        let source = UnsafeRawPointer(x.buffer.base), target = output.buffer.base
        context.parallel(slices) { o in
            var values = (0..<sliceInput).map { read(source, o * sliceInput + $0) }
            var dims = slicePlans.map(\.input)
            for (a, plan) in slicePlans.enumerated() where !plan.isIdentity {
                values = resample(values, dims: dims, axis: a, plan)
                dims[a] = plan.output
            }
            for (i, v) in values.enumerated() { write(target, o * sliceOutput + i, v) }
        }
        return [output]
    }

    /// Output sizes, scales and regions of interest of every axis.
    func axisPlans(_ shape: [Int], _ inputs: [EngineTensor?]) throws(ModelError) -> [AxisPlan] {
        let rank = shape.count
        let resized = try axes.map { a throws(ModelError) in try ShapeKernels.axes(a, rank: rank) } ?? Array(0..<rank)
        // An empty tensor stands for an omitted input (opset 11 needed an empty scales to reach sizes).
        func given(_ index: Int?) -> EngineTensor? {
            index.flatMap { optionalInput(inputs, $0) }.flatMap { $0.count > 0 ? $0 : nil }
        }
        var roi = Array(repeating: (start: 0.0, end: 1.0), count: rank)
        if coordinateMode == "tf_crop_and_resize", let region = given(roiIndex) {
            let bounds = try ElementNumbers.doubles(region)
            guard bounds.count == 2 * resized.count else { throw ModelError(.invalidGraph, "roi has \(bounds.count) elements for \(resized.count) axes") }
            for (k, a) in resized.enumerated() { roi[a] = (bounds[k], bounds[k + resized.count]) }
        }
        var scales = Array(repeating: 1.0, count: rank), sizes = shape
        if let sizesInput = given(sizesIndex) {
            let wanted = try ShapeKernels.integers(sizesInput, "sizes")
            guard wanted.count == resized.count, wanted.allSatisfy({ $0 >= 0 }) else {
                throw ModelError(.invalidGraph, "sizes must give a non-negative size for each of the \(resized.count) axes")
            }
            guard resized.allSatisfy({ shape[$0] > 0 }) else { throw ModelError(.invalidGraph, "cannot resize an empty axis to a size") }
            let ratios = zip(resized, wanted).map { Double($1) / Double(shape[$0]) }
            if keepAspectRatioPolicy == "stretch" {
                for (k, a) in resized.enumerated() { (scales[a], sizes[a]) = (ratios[k], wanted[k]) }
            } else {
                let scale = (keepAspectRatioPolicy == "not_larger" ? ratios.min() : ratios.max()) ?? 1
                for a in resized {
                    let size = scale * Double(shape[a]) + 0.5
                    guard size < Double(Int32.max) else { throw ModelError(.invalidGraph, "sizes make axis \(a) too large") }
                    (scales[a], sizes[a]) = (scale, Int(size))
                }
            }
        } else {
            let factors: [Double]
            if let scalesAttribute {
                factors = scalesAttribute
            } else if let scalesInput = given(scalesIndex) {
                factors = try ElementNumbers.doubles(scalesInput)
            } else {
                throw ModelError(.invalidGraph, "Resize needs scales or sizes")
            }
            // Upsample's scales cover every axis.
            let targets = scalesAttribute != nil || sizesIndex == nil ? Array(0..<rank) : resized
            guard factors.count == targets.count, factors.allSatisfy({ $0 > 0 && $0.isFinite }) else {
                throw ModelError(.invalidGraph, "scales must give a positive factor for each of the \(targets.count) axes")
            }
            for (k, a) in targets.enumerated() {
                let size = (factors[k] * Double(shape[a])).rounded(.down)
                guard size < Double(Int32.max) else { throw ModelError(.invalidGraph, "scale \(factors[k]) makes axis \(a) too large") }
                (scales[a], sizes[a]) = (factors[k], Int(size))
            }
        }
        return (0..<rank).map { AxisPlan(input: shape[$0], output: sizes[$0], scale: scales[$0], roi: roi[$0]) }
    }

    /// The input coordinate output position `j` samples, and whether it lies outside the crop region.
    func coordinate(_ j: Int, _ plan: AxisPlan) -> (x: Double, outside: Bool) {
        let position = Double(j), input = Double(plan.input), scale = plan.scale
        // As the operator's reference does, the fractional output length decides the degenerate cases.
        let length = scale * input
        switch coordinateMode {
        case "align_corners":
            return (length == 1 ? 0 : position * (input - 1) / (length - 1), false)
        case "asymmetric":
            return (position / scale, false)
        case "pytorch_half_pixel":
            return (length == 1 ? -0.5 : (position + 0.5) / scale - 0.5, false)
        case "half_pixel_symmetric":
            let adjustment = Double(plan.output) / length
            let offset = input / 2 * (1 - adjustment)
            return (offset + (position + 0.5) / scale - 0.5, false)
        case "tf_crop_and_resize":
            let extent = plan.roi.end - plan.roi.start
            let x = (length == 1 ? extent * (input - 1) / 2 : position * extent * (input - 1) / (length - 1)) + plan.roi.start * (input - 1)
            return (x, x < 0 || x > input - 1)
        default:
            return ((position + 0.5) / scale - 0.5, false)
        }
    }

    /// The input index nearest to output position `j`'s coordinate, or `nil` outside the crop region.
    func nearest(_ j: Int, _ plan: AxisPlan) -> Int? {
        let (x, outside) = coordinate(j, plan)
        if outside { return nil }
        let below = x.rounded(.down)
        let fraction = x - below
        var index = Int(below)
        if fraction > 0 {
            switch nearestMode {
            case "round_prefer_ceil": if fraction >= 0.5 { index += 1 }
            case "floor": break
            case "ceil": index += 1
            default: if fraction > 0.5 { index += 1 }
            }
        }
        return min(max(index, 0), plan.input - 1)
    }

    /// Filter weights for a sample at `ratio` ∈ (0, 1] past the tap left of it.
    func coefficients(_ ratio: Double, scale: Double) -> [Double] {
        let a = cubicA
        switch (mode, antialias) {
        case (.cubic, false):
            let r = ratio, s = 1 - ratio
            return [((a * (r + 1) - 5 * a) * (r + 1) + 8 * a) * (r + 1) - 4 * a,
                    ((a + 2) * r - (a + 3)) * r * r + 1,
                    ((a + 2) * s - (a + 3)) * s * s + 1,
                    ((a * (s + 1) - 5 * a) * (s + 1) + 8 * a) * (s + 1) - 4 * a]
        case (.cubic, true):
            let s = min(scale, 1)
            let first = Int((-2 / s).rounded(.down)) + 1
            let weights = (first..<(2 - first)).map { i -> Double in
                let x = abs(s * (Double(i) - ratio))
                if x <= 1 { return (a + 2) * x * x * x - (a + 3) * x * x + 1 }
                if x < 2 { return a * x * x * x - 5 * a * x * x + 8 * a * x - 4 * a }
                return 0
            }
            let sum = weights.reduce(0, +)
            return weights.map { $0 / sum }
        case (_, true):
            let s = min(scale, 1)
            let first = Int((-1 / s).rounded(.down)) + 1
            let weights = (first..<(2 - first)).map { i in min(max(1 - abs((Double(i) - ratio) * s), 0), 1) }
            let sum = weights.reduce(0, +)
            return weights.map { $0 / sum }
        default:
            return [1 - ratio, ratio]
        }
    }

    /// `values` (shaped `dims`) interpolated along `axis`.
    func resample(_ values: [Double], dims: [Int], axis: Int, _ plan: AxisPlan) -> [Double] {
        let outer = dims[..<axis].reduce(1, *), inner = dims[(axis + 1)...].reduce(1, *)
        var taps: [(indices: [Int], weights: [Double])?] = []
        for j in 0..<plan.output {
            let (x, outside) = coordinate(j, plan)
            if outside {
                taps.append(nil)
                continue
            }
            let below = x.rounded(.down)
            let exact = x == below
            var weights = coefficients(exact ? 1 : x - below, scale: plan.scale)
            // The taps are the n inputs nearest x, the left one preferred on ties; edges repeat.
            let first = Int(below) - weights.count / 2 + (exact ? 0 : 1)
            let positions = (0..<weights.count).map { first + $0 }
            if excludeOutside {
                for (t, p) in positions.enumerated() where p < 0 || p >= plan.input { weights[t] = 0 }
                let sum = weights.reduce(0, +)
                if sum != 0 { weights = weights.map { $0 / sum } }
            }
            taps.append((positions.map { min(max($0, 0), plan.input - 1) }, weights))
        }
        var result = Array(repeating: 0.0, count: outer * plan.output * inner)
        values.withUnsafeBufferPointer { source in
            for o in 0..<outer {
                for (j, tap) in taps.enumerated() {
                    let target = (o * plan.output + j) * inner
                    guard let tap else {
                        for i in 0..<inner { result[target + i] = extrapolation }
                        continue
                    }
                    for (index, weight) in zip(tap.indices, tap.weights) where weight != 0 {
                        let from = (o * plan.input + index) * inner
                        for i in 0..<inner { result[target + i] += weight * source[from + i] }
                    }
                }
            }
        }
        return result
    }
}

extension Resize: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try ResizeKernel(self, setup) }
}

extension Upsample: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try ResizeKernel(self, setup) }
}
