import ModelCore
import Testing
import TestSupport

/// Shape rules, constant propagation and costs of the shape and data-movement family.
@Suite struct ShapeOpsTests {
    private let n = Dim.symbol("N")

    /// The schema for a node with inputs `x0, x1, …` (positions in `omitted` left empty).
    private func schema(_ op: String, inputs: Int = 1, omitted: Set<Int> = [], outputs: Int = 1,
                        attributes: [String: AttributeValue] = [:], opset: Int = 21) throws -> any OpSchema {
        let node = Node(name: "n", opType: op, inputs: (0..<inputs).map { omitted.contains($0) ? "" : "x\($0)" },
                        outputs: (0..<outputs).map { "y\($0)" },
                        attributes: attributes.map { Attribute(name: $0.key, value: $0.value) })
        return try #require(try OpRegistry.schema(for: node, opset: opset))
    }

    private func fact(_ dims: [Dim], _ dtype: DType = .float) -> ValueFact {
        ValueFact(dtype: dtype, shape: Shape(dims))
    }

    private func fact(_ dims: [Int], _ dtype: DType = .float) -> ValueFact {
        ValueFact(dtype: dtype, shape: Shape(dims))
    }

    /// A float tensor whose first dimension is `first` (symbolic or unknown).
    private func fact(_ first: Dim, _ rest: Int...) -> ValueFact {
        ValueFact(dtype: .float, shape: Shape([first] + rest.map(Dim.known)))
    }

    /// A 1-D int64 tensor with known contents.
    private func ints(_ values: [Int]) -> ValueFact {
        ValueFact(dtype: .int64, value: KnownValue(integers: values.map(Dim.known)))
    }

    private func dims(_ values: [Dim]) -> ValueFact {
        ValueFact(dtype: .int64, value: KnownValue(integers: values))
    }

    private func scalar(_ value: Int) -> ValueFact {
        ValueFact(dtype: .int64, value: KnownValue(scalar: .known(value)))
    }

    private func reals(_ values: [Double], dims: [Int]? = nil) -> ValueFact {
        ValueFact(dtype: .float, value: KnownValue(dims: dims ?? [values.count], elements: .reals(values)))
    }

    private func text(_ s: String) -> AttributeValue { .string(Array(s.utf8)) }

    private func shape(_ op: any OpSchema, _ inputs: [ValueFact?], output: Int = 0) throws -> Shape? {
        try op.infer(inputs)[output].shape
    }

    // MARK: Reshape, Flatten, Squeeze, Unsqueeze

    /// Ceil mode gives one output even when the window is wider than the
    /// padded input, as PyTorch and onnxruntime do (3×3/2 on 2×2 → 1×1);
    /// floor mode gives none.
    @Test func ceilModePoolingKeepsAWindowWiderThanTheInput() throws {
        func side(_ size: Int, ceil: Bool) throws -> Dim? {
            let pool = try schema("MaxPool", attributes: ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]),
                                                          "ceil_mode": .int(ceil ? 1 : 0)])
            return try pool.infer([fact([1, 1, size, size])])[0].shape?.dims[2]
        }
        #expect(try side(2, ceil: true) == .known(1))
        #expect(try side(1, ceil: true) == .known(0), "a window starting past the input's end is dropped")
        #expect(try side(5, ceil: true) == .known(2))
        #expect(try side(6, ceil: true) == .known(3))
        #expect(try side(6, ceil: false) == .known(2))
    }

    @Test func reshapeCopiesZerosAndInfersMinusOneSymbolically() throws {
        let reshape = try schema("Reshape", inputs: 2)
        #expect(try shape(reshape, [fact(n, 512, 7, 7), ints([0, -1])]) == Shape([n, .known(25088)]))
        #expect(try shape(reshape, [fact(n, 4, 3), ints([-1, 6])]) == Shape([.symbol("2*N"), .known(6)]))
        #expect(try shape(reshape, [fact(n, 4, 3), dims([n, .known(-1)])]) == Shape([n, .known(12)]))
        // An unknown target with a known length still gives the rank.
        #expect(try shape(reshape, [fact([2, 3]), fact([3], .int64)]) == Shape([Dim.unknown, .unknown, .unknown]))
        #expect(try shape(reshape, [fact(Dim.unknown, 4), ints([-1, 2])]) == Shape([Dim.unknown, .known(2)]))
    }

    @Test func reshapeRejectsImpossibleTargets() throws {
        let reshape = try schema("Reshape", inputs: 2)
        #expect(throws: ModelError.self) { try reshape.infer([fact([2, 3]), ints([-1, -1])]) }
        #expect(throws: ModelError.self) { try reshape.infer([fact([2, 3]), ints([4, -1])]) }
        #expect(throws: ModelError.self) { try reshape.infer([fact([2, 3]), ints([5])]) }
        #expect(throws: ModelError.self) { try reshape.infer([fact([2, 3]), ints([-2, 3])]) }
        #expect(throws: ModelError.self) { try reshape.infer([fact([2, 3]), ints([1, 1, 0])]) }
        #expect(throws: ModelError.self) { try schema("Reshape", inputs: 1, opset: 4) }
    }

    @Test func reshapeAllowZeroAndTheAttributeForm() throws {
        let allowZero = try schema("Reshape", inputs: 2, attributes: ["allowzero": .int(1)], opset: 14)
        #expect(try shape(allowZero, [fact([0, 3, 4]), ints([3, 4, 0])]) == Shape([3, 4, 0]))
        #expect(throws: ModelError.self) { try allowZero.infer([fact([0, 3]), ints([0, -1])]) }
        let old = try schema("Reshape", attributes: ["shape": .ints([0, -1])], opset: 1)
        #expect(try shape(old, [fact([2, 3, 4])]) == Shape([2, 12]))
    }

    @Test func reshapeKeepsKnownContents() throws {
        let reshape = try schema("Reshape", inputs: 2)
        let out = try reshape.infer([ints([1, 2, 3, 4]), ints([2, 2])])[0]
        #expect(out.value == KnownValue(dims: [2, 2], elements: .integers([1, 2, 3, 4].map(Dim.known))))
    }

    @Test func flattenSplitsAtTheAxis() throws {
        #expect(try shape(schema("Flatten"), [fact(n, 512, 7, 7)]) == Shape([n, .known(25088)]))
        #expect(try shape(schema("Flatten", attributes: ["axis": .int(0)]), [fact(n, 2)]) == Shape([.known(1), .symbol("2*N")]))
        #expect(try shape(schema("Flatten", attributes: ["axis": .int(-1)]), [fact([2, 3, 4])]) == Shape([6, 4]))
        #expect(try shape(schema("Flatten", attributes: ["axis": .int(3)]), [fact([2, 3, 4])]) == Shape([24, 1]))
        #expect(throws: ModelError.self) { try schema("Flatten", attributes: ["axis": .int(4)]).infer([fact([2, 3, 4])]) }
    }

    @Test func squeezeAxesFromAttributeOrInput() throws {
        let old = try schema("Squeeze", attributes: ["axes": .ints([0, -1])], opset: 11)
        #expect(try shape(old, [fact([1, 3, 1])]) == Shape([3]))
        let new = try schema("Squeeze", inputs: 2, opset: 13)
        #expect(try shape(new, [fact([1, 3, 1]), ints([-1])]) == Shape([1, 3]))
        // No axes: every 1 goes, unless a symbol might be 1.
        let all = try schema("Squeeze", opset: 13)
        #expect(try shape(all, [fact([1, 3, 1, 2])]) == Shape([3, 2]))
        #expect(try shape(all, [fact(n, 1, 3)]) == nil)
        // Unknown axes of known count.
        #expect(try shape(new, [fact([1, 3, 1]), fact([2], .int64)]) == Shape([Dim.unknown]))
        #expect(throws: ModelError.self) { try new.infer([fact([2, 3]), ints([0])]) }
        #expect(throws: ModelError.self) { try new.infer([fact([1, 3]), ints([2])]) }
        #expect(throws: ModelError.self) { try new.infer([fact([1, 1]), ints([0, -2])]) }
        #expect(throws: ModelError.self) { try new.infer([fact([Int]()), ints([0])]) }
    }

    @Test func unsqueezeInsertsOnes() throws {
        let old = try schema("Unsqueeze", attributes: ["axes": .ints([0, -1])], opset: 11)
        #expect(try shape(old, [fact([3, 4])]) == Shape([1, 3, 4, 1]))
        let new = try schema("Unsqueeze", inputs: 2, opset: 13)
        #expect(try shape(new, [fact(n, 4), ints([1])]) == Shape([n, .known(1), .known(4)]))
        #expect(try shape(new, [fact([3, 4]), ints([4, 1, 2])]) == Shape([3, 1, 1, 4, 1]))
        // A scalar read out of a shape becomes a one-element vector, contents kept.
        let out = try new.infer([ValueFact(dtype: .int64, value: KnownValue(scalar: n)), ints([0])])[0]
        #expect(out.value == KnownValue(integers: [n]))
        #expect(throws: ModelError.self) { try new.infer([fact([3]), ints([0, 0])]) }
        #expect(throws: ModelError.self) { try new.infer([fact([3]), ints([2])]) }
        #expect(throws: ModelError.self) { try schema("Unsqueeze", opset: 11) }
    }

    // MARK: Transpose, Concat, Split

    @Test func transposePermutesShapeAndContents() throws {
        #expect(try shape(schema("Transpose"), [fact(n, 3, 5)]) == Shape([.known(5), .known(3), n]))
        let perm = try schema("Transpose", attributes: ["perm": .ints([0, 2, 1])])
        #expect(try shape(perm, [fact(n, 3, 5)]) == Shape([n, .known(5), .known(3)]))
        let value = try schema("Transpose").infer([ValueFact(dtype: .int64, value: KnownValue(dims: [2, 3], elements: .integers([1, 2, 3, 4, 5, 6].map(Dim.known))))])[0]
        #expect(value.value?.knownIntegers == [1, 4, 2, 5, 3, 6])
        #expect(throws: ModelError.self) { try schema("Transpose", attributes: ["perm": .ints([0, 0])]) }
        #expect(throws: ModelError.self) { try perm.infer([fact([2, 3])]) }
    }

    @Test func concatAddsTheAxisAndJoinsContents() throws {
        let concat = try schema("Concat", inputs: 2, attributes: ["axis": .int(-1)])
        #expect(try shape(concat, [fact(n, 3), fact(Dim.unknown, 5)]) == Shape([n, .known(8)]))
        #expect(try shape(concat, [fact(n, 3), nil]) == Shape([n, .unknown]))
        let joined = try concat.infer([dims([n]), ints([-1])])[0]
        #expect(joined.value == KnownValue(integers: [n, .known(-1)]))
        let symbolic = try schema("Concat", inputs: 2, attributes: ["axis": .int(0)])
        #expect(try shape(symbolic, [fact(n, 3), fact(n, 3)]) == Shape([.symbol("2*N"), .known(3)]))
        #expect(throws: ModelError.self) { try concat.infer([fact([2, 3]), fact([4, 3])]) }
        #expect(throws: ModelError.self) { try concat.infer([fact([2, 3]), fact([2])]) }
        #expect(throws: ModelError.self) { try schema("Concat", inputs: 2) }
    }

    @Test func splitBySizesPartsOrEqually() throws {
        let sizes = try schema("Split", inputs: 2, outputs: 2, attributes: ["axis": .int(1)], opset: 13)
        #expect(try sizes.infer([fact(n, 6), ints([2, 4])]).map(\.shape) == [Shape([n, .known(2)]), Shape([n, .known(4)])])
        #expect(throws: ModelError.self) { try sizes.infer([fact([2, 6]), ints([2, 3])]) }
        let parts = try schema("Split", outputs: 3, attributes: ["num_outputs": .int(3)], opset: 18)
        #expect(try parts.infer([fact([7])]).map(\.shape) == [Shape([3]), Shape([3]), Shape([1])])
        let equal = try schema("Split", outputs: 2, opset: 13)
        #expect(try equal.infer([fact(.symbol("2*N"))]).map(\.shape) == [Shape([n]), Shape([n])])
        #expect(throws: ModelError.self) { try equal.infer([fact([5])]) }
        let old = try schema("Split", outputs: 2, attributes: ["split": .ints([1, 3])], opset: 11)
        let split = try old.infer([ints([5, 6, 7, 8])])
        #expect(split.map { $0.value?.knownIntegers } == [[5], [6, 7, 8]])
        #expect(throws: ModelError.self) { try schema("Split", outputs: 2, attributes: ["num_outputs": .int(3)], opset: 18) }
    }

    // MARK: Slice, Gather

    @Test func sliceClampsAndStepsBothWays() throws {
        let slice = try schema("Slice", inputs: 5)
        let x = fact([20, 10, 5])
        #expect(try shape(slice, [x, ints([0, 0]), ints([3, 10]), ints([0, 1]), ints([1, 1])]) == Shape([3, 10, 5]))
        #expect(try shape(slice, [x, ints([0, 0, 3]), ints([20, 10, 4]), nil, nil]) == Shape([20, 10, 1]))
        #expect(try shape(slice, [x, ints([1]), ints([1000]), ints([1]), ints([1])]) == Shape([20, 9, 5]))
        #expect(try shape(slice, [x, ints([0]), ints([-1]), ints([1]), ints([1])]) == Shape([20, 9, 5]))
        #expect(try shape(slice, [x, ints([20, 10, 4]), ints([0, 0, 1]), ints([0, 1, 2]), ints([-1, -3, -2])]) == Shape([19, 3, 2]))
        #expect(try shape(slice, [x, ints([1000]), ints([1000]), ints([1]), ints([1])]) == Shape([20, 0, 5]))
        #expect(try shape(slice, [x, ints([0]), ints([3]), ints([-1]), nil]) == Shape([20, 10, 3]))
        #expect(throws: ModelError.self) { try slice.infer([x, ints([0]), ints([3]), ints([0]), ints([0])]) }
        #expect(throws: ModelError.self) { try slice.infer([x, ints([0, 0]), ints([3]), nil, nil]) }
    }

    @Test func sliceOfSymbolicAxesAndKnownContents() throws {
        let slice = try schema("Slice", inputs: 5)
        let whole = Int(Int64.max)
        #expect(try shape(slice, [fact(n, 8), ints([0, 2]), ints([whole, 4]), ints([0, 1]), nil]) == Shape([n, .known(2)]))
        #expect(try shape(slice, [fact(n, 8), ints([1]), ints([whole]), ints([0]), nil]) == Shape([Dim.unknown, .known(8)]))
        #expect(try shape(slice, [fact(n), ints([-1]), ints([Int(Int64.min)]), nil, ints([-1])]) == Shape([n]))
        // Unknown starts leave the sliced axes unknown, the others as they were.
        #expect(try shape(slice, [fact(n, 8), fact([1], .int64), ints([4]), ints([1]), nil]) == Shape([n, .unknown]))
        // The tail of a shape, as exporters slice it.
        let tail = try slice.infer([dims([n, .known(3), .known(224), .known(224)]), ints([-2]), ints([whole]), nil, nil])[0]
        #expect(tail.value?.knownIntegers == [224, 224])
        let old = try schema("Slice", attributes: ["starts": .ints([1]), "ends": .ints([3]), "axes": .ints([1])], opset: 9)
        #expect(try shape(old, [fact([4, 5])]) == Shape([4, 2]))
        // Extreme steps neither trap nor overflow.
        #expect(try shape(slice, [fact([10]), ints([9]), ints([Int(Int64.min)]), nil, ints([Int(Int64.min)])]) == Shape([1]))
        #expect(try shape(slice, [fact([10]), ints([0]), ints([whole]), nil, ints([whole])]) == Shape([1]))
    }

    @Test func gatherReadsDimensionsOutOfShapes() throws {
        let gather = try schema("Gather", inputs: 2)
        let shapeValue = dims([n, .known(3), .known(224)])
        let first = try gather.infer([shapeValue, scalar(0)])[0]
        #expect(first.shape == Shape([Dim]()))
        #expect(first.value == KnownValue(scalar: n))
        #expect(try gather.infer([shapeValue, ints([-1, 1])])[0].value?.knownIntegers == [224, 3])
        #expect(throws: ModelError.self) { try gather.infer([shapeValue, scalar(3)]) }
        let rows = try schema("Gather", inputs: 2, attributes: ["axis": .int(1)])
        #expect(try shape(rows, [fact(n, 10, 4), fact([2, 3], .int64)]) == Shape([n, .known(2), .known(3), .known(4)]))
        #expect(throws: ModelError.self) { try rows.infer([fact([Int]()), scalar(0)]) }
        // An empty selection from a huge known-empty tensor does no work.
        let empty = ValueFact(dtype: .int64, value: KnownValue(dims: [1 << 40, 0], elements: .integers([])))
        #expect(try gather.infer([empty, ints([])])[0].shape == Shape([0, 0]))
    }

    @Test func gatherElementsAndGatherND() throws {
        let elements = try schema("GatherElements", inputs: 2, attributes: ["axis": .int(1)])
        #expect(try shape(elements, [fact([3, 3]), fact([3, 2], .int64)]) == Shape([3, 2]))
        #expect(throws: ModelError.self) { try elements.infer([fact([3, 3]), fact([3], .int64)]) }
        let nd = try schema("GatherND", inputs: 2)
        #expect(try shape(nd, [fact([2, 2, 2]), fact([2, 1, 2], .int64)]) == Shape([2, 1, 2]))
        let batched = try schema("GatherND", inputs: 2, attributes: ["batch_dims": .int(1)])
        #expect(try shape(batched, [fact([2, 2, 2]), fact([2, 1], .int64)]) == Shape([2, 2]))
        #expect(throws: ModelError.self) { try nd.infer([fact([2, 2]), fact([1, 3], .int64)]) }
        #expect(throws: ModelError.self) { try nd.infer([fact([2, 2]), fact([1, Int.max], .int64)]) }
    }

    @Test func scattersKeepTheDataShapeAndCountReductions() throws {
        let plain = try schema("ScatterElements", inputs: 3)
        let inputs = [fact([3, 3]), fact([2, 3], .int64), fact([2, 3])]
        let out = try plain.infer(inputs)
        #expect(out[0].shape == Shape([3, 3]))
        #expect(plain.cost(inputs, out) == .zero)
        let adding = try schema("ScatterND", inputs: 3, attributes: ["reduction": text("add")])
        let ndInputs = [fact([4, 4, 4]), fact([2, 1], .int64), fact([2, 4, 4])]
        #expect(adding.cost(ndInputs, try adding.infer(ndInputs)) == OpCost(macs: 0, flops: 32))
        #expect(throws: ModelError.self) { try schema("ScatterND", inputs: 3, attributes: ["reduction": text("xor")]) }
        #expect(try shape(schema("Scatter", inputs: 3, opset: 9), inputs) == Shape([3, 3]))
        let cache = try schema("TensorScatter", inputs: 2, opset: 24)
        #expect(try shape(cache, [fact([2, 3, 8, 4]), fact([2, 3, 1, 4])]) == Shape([2, 3, 8, 4]))
    }

    // MARK: Expand, Tile, Pad, CenterCropPad

    @Test func expandBroadcastsToTheTarget() throws {
        let expand = try schema("Expand", inputs: 2)
        #expect(try shape(expand, [fact([3, 1]), ints([2, 1, 6])]) == Shape([2, 3, 6]))
        #expect(try shape(expand, [fact(n, 1), ints([1, 4])]) == Shape([n, .known(4)]))
        #expect(try shape(expand, [fact([3, 1]), fact([3], .int64)]) == Shape([Dim.unknown, .known(3), .unknown]))
        #expect(throws: ModelError.self) { try expand.infer([fact([3, 2]), ints([4])]) }
        let out = try expand.infer([ints([1, 2]), ints([2, 2])])[0]
        #expect(out.value?.knownIntegers == [1, 2, 1, 2])
    }

    @Test func tileMultipliesEachAxis() throws {
        let tile = try schema("Tile", inputs: 2)
        #expect(try shape(tile, [fact(n, 3), ints([2, 2])]) == Shape([.symbol("2*N"), .known(6)]))
        #expect(try tile.infer([ints([1, 2]), ints([2])])[0].value?.knownIntegers == [1, 2, 1, 2])
        #expect(throws: ModelError.self) { try tile.infer([fact([2, 3]), ints([2])]) }
        let old = try schema("Tile", inputs: 3, opset: 1)
        #expect(try shape(old, [fact([2, 3]), scalar(4), scalar(1)]) == Shape([2, 12]))
    }

    @Test func padFromAttributeInputOrAxes() throws {
        let old = try schema("Pad", attributes: ["pads": .ints([0, 1, 0, 2])], opset: 2)
        #expect(try shape(old, [fact([3, 4])]) == Shape([3, 7]))
        let new = try schema("Pad", inputs: 3, attributes: ["mode": text("reflect")], opset: 11)
        #expect(try shape(new, [fact([1, 3, 4, 5]), ints([0, 0, 1, 1, 0, 0, 1, 1]), nil]) == Shape([1, 3, 6, 7]))
        #expect(try shape(new, [fact(n, 4), ints([0, -1, 0, -1]), nil]) == Shape([n, .known(2)]))
        let axes = try schema("Pad", inputs: 4, omitted: [2], opset: 18)
        #expect(try shape(axes, [fact([1, 3, 4, 5]), ints([0, 3, 0, 4]), nil, ints([-3, -1])]) == Shape([1, 3, 4, 12]))
        #expect(throws: ModelError.self) { try new.infer([fact([3, 4]), ints([0, 0, -4, 0]), nil]) }
        #expect(throws: ModelError.self) { try new.infer([fact([3, 4]), ints([1, 1]), nil]) }
        #expect(throws: ModelError.self) { try schema("Pad", inputs: 2, attributes: ["mode": text("mirror")]) }
        #expect(new.holdsParameters(input: 2) == false)
    }

    @Test func centerCropPadSetsTheListedAxes() throws {
        let crop = try schema("CenterCropPad", inputs: 2, attributes: ["axes": .ints([-3, -2])], opset: 18)
        #expect(try shape(crop, [fact([20, 8, 3]), ints([10, 9])]) == Shape([10, 9, 3]))
        #expect(throws: ModelError.self) { try crop.infer([fact([20, 8, 3]), ints([10])]) }
    }

    // MARK: Resize and Upsample

    @Test func resizeByScalesOrSizes() throws {
        let scales = try schema("Resize", inputs: 3, omitted: [1], attributes: ["mode": text("linear")], opset: 19)
        let x = fact([1, 1, 4, 4])
        #expect(try shape(scales, [x, nil, reals([1, 1, 0.6, 0.6])]) == Shape([1, 1, 2, 2]))
        #expect(try shape(scales, [fact(n, 3, 8, 8), nil, reals([1, 1, 2, 2])]) == Shape([n, .known(3), .known(16), .known(16)]))
        let sizes = try schema("Resize", inputs: 4, omitted: [1, 2], opset: 19)
        #expect(try shape(sizes, [x, nil, nil, ints([1, 1, 3, 2])]) == Shape([1, 1, 3, 2]))
        let axes = try schema("Resize", inputs: 4, omitted: [1, 2], attributes: ["axes": .ints([3, 2])], opset: 19)
        #expect(try shape(axes, [x, nil, nil, ints([8, 7])]) == Shape([1, 1, 7, 8]))
        #expect(throws: ModelError.self) { try sizes.infer([x, nil, nil, ints([2, 2])]) }
        #expect(throws: ModelError.self) { try scales.infer([x, nil, reals([1, 1, 0, 1])]) }
    }

    @Test func resizeKeepsTheAspectRatioAndCropsToTheRegion() throws {
        let notLarger = try schema("Resize", inputs: 4, omitted: [1, 2],
                                   attributes: ["axes": .ints([2, 3]), "keep_aspect_ratio_policy": text("not_larger")], opset: 19)
        #expect(try shape(notLarger, [fact([1, 1, 2, 2]), nil, nil, ints([7, 8])]) == Shape([1, 1, 7, 7]))
        let notSmaller = try schema("Resize", inputs: 4, omitted: [1, 2],
                                    attributes: ["axes": .ints([2, 3]), "keep_aspect_ratio_policy": text("not_smaller")], opset: 19)
        #expect(try shape(notSmaller, [fact([1, 1, 4, 4]), nil, nil, ints([1, 3])]) == Shape([1, 1, 3, 3]))
        let crop = try schema("Resize", inputs: 3, attributes: ["coordinate_transformation_mode": text("tf_crop_and_resize")], opset: 19)
        #expect(try shape(crop, [fact([1, 1, 4, 4]), reals([0, 0, 0.25, 0.5, 1, 1, 0.75, 1]), reals([1, 1, 3, 2])]) == Shape([1, 1, 6, 4]))
        #expect(throws: ModelError.self) {
            try schema("Resize", inputs: 4, attributes: ["keep_aspect_ratio_policy": text("fit")], opset: 19)
        }
    }

    @Test func resizeOfOpset10AndUpsample() throws {
        let resize = try schema("Resize", inputs: 2, opset: 10)
        #expect(try shape(resize, [fact([1, 1, 2, 2]), reals([1, 1, 2, 3])]) == Shape([1, 1, 4, 6]))
        let upsample = try schema("Upsample", inputs: 2, opset: 9)
        #expect(try shape(upsample, [fact([1, 1, 2, 2]), reals([1, 1, 2, 3])]) == Shape([1, 1, 4, 6]))
        let attribute = try schema("Upsample", attributes: ["scales": .floats([1, 1, 2, 2])], opset: 7)
        #expect(try shape(attribute, [fact([1, 3, 5, 5])]) == Shape([1, 3, 10, 10]))
        let first = try schema("Upsample", attributes: ["height_scale": .float(2), "width_scale": .float(3), "mode": text("bilinear")], opset: 1)
        #expect(try shape(first, [fact([1, 3, 5, 5])]) == Shape([1, 3, 10, 15]))
        #expect(throws: ModelError.self) { try schema("Upsample", opset: 7) }
    }

    @Test func resizeCostsByMode() throws {
        let x = fact([1, 2, 4, 4]), scales = reals([1, 1, 2, 2])
        for (mode, perElement) in [("nearest", 0), ("linear", 12), ("cubic", 48)] {
            let resize = try schema("Resize", inputs: 3, omitted: [1], attributes: ["mode": text(mode)], opset: 19)
            let out = try resize.infer([x, nil, scales])
            #expect(resize.cost([x, nil, scales], out) == OpCost(macs: 0, flops: 128 * perElement))
        }
        // Unknown scales: nearest still copies (zero), linear cannot be counted.
        let inputs: [ValueFact?] = [x, nil, fact([4])]
        let nearest = try schema("Resize", inputs: 3, omitted: [1], opset: 19)
        #expect(nearest.cost(inputs, try nearest.infer(inputs)) == .zero)
        let linear = try schema("Resize", inputs: 3, omitted: [1], attributes: ["mode": text("linear")], opset: 19)
        #expect(linear.cost(inputs, try linear.infer(inputs)) == nil)
    }

    // MARK: Shape, Size, ConstantOfShape, Range, Constant

    @Test func shapeAndSizeKeepSymbols() throws {
        let shapeOp = try schema("Shape")
        let out = try shapeOp.infer([fact(n, 3, 224, 224)])[0]
        #expect(out.shape == Shape([4]) && out.dtype == .int64)
        #expect(out.value == KnownValue(integers: [n, .known(3), .known(224), .known(224)]))
        let window = try schema("Shape", attributes: ["start": .int(1), "end": .int(-1)], opset: 15)
        #expect(try window.infer([fact(n, 3, 224, 224)])[0].value?.knownIntegers == [3, 224])
        let clipped = try schema("Shape", attributes: ["start": .int(-10), "end": .int(10)], opset: 15)
        #expect(try shape(clipped, [fact([2, 3])]) == Shape([2]))
        let empty = try schema("Shape", attributes: ["start": .int(2), "end": .int(1)], opset: 15)
        #expect(try shape(empty, [fact([2, 3, 4])]) == Shape([0]))
        #expect(try shape(shapeOp, [nil]) == Shape([Dim.unknown]))
        let size = try schema("Size").infer([fact(n, 3, 4)])[0]
        #expect(size.value == KnownValue(scalar: .symbol("12*N")) && size.shape == Shape([Dim]()))
    }

    @Test func constantOfShapeFillsKnownShapes() throws {
        let zeros = try schema("ConstantOfShape")
        let out = try zeros.infer([ints([2, 3])])[0]
        #expect(out.shape == Shape([2, 3]) && out.dtype == .float)
        #expect(out.value?.reals == Array(repeating: 0, count: 6))
        #expect(try shape(zeros, [dims([n, .known(4)])]) == Shape([n, .known(4)]))
        #expect(try shape(zeros, [fact([3], .int64)]) == Shape([Dim.unknown, .unknown, .unknown]))
        #expect(try shape(zeros, [ints([0])]) == Shape([0]))
        #expect(throws: ModelError.self) { try zeros.infer([ints([2, -3])]) }
        let seven = try Tensor(name: "v", dtype: .int64, dims: [1], storage: .bytes(ByteRegion(copying: [7, 0, 0, 0, 0, 0, 0, 0])))
        let filled = try schema("ConstantOfShape", attributes: ["value": .tensor(seven)]).infer([ints([2])])[0]
        #expect(filled.dtype == .int64 && filled.value?.knownIntegers == [7, 7])
        // A huge shape is described, never materialised.
        let huge = try zeros.infer([ints([1 << 20, 1 << 20])])[0]
        #expect(huge.shape == Shape([1 << 20, 1 << 20]) && huge.value == nil)
    }

    @Test func rangeCountsAndFollowsSymbols() throws {
        let range = try schema("Range", inputs: 3, opset: 11)
        let out = try range.infer([scalar(10), scalar(4), scalar(-3)])[0]
        #expect(out.shape == Shape([2]) && out.value?.knownIntegers == [10, 7])
        #expect(try shape(range, [scalar(0), ValueFact(dtype: .int64, value: KnownValue(scalar: n)), scalar(1)]) == Shape([n]))
        #expect(try shape(range, [scalar(1), ValueFact(dtype: .int64, value: KnownValue(scalar: n)), scalar(1)]) == Shape([Dim.unknown]))
        let floats = [reals([1], dims: []), reals([5], dims: []), reals([2], dims: [])]
        #expect(try shape(range, floats) == Shape([2]))
        #expect(try shape(range, [scalar(5), scalar(1), scalar(1)]) == Shape([0]))
        #expect(throws: ModelError.self) { try range.infer([scalar(0), scalar(4), scalar(0)]) }
        // Extreme bounds neither trap nor allocate.
        #expect(try shape(range, [scalar(Int.min), scalar(Int.max), scalar(1)]) == Shape([Dim.unknown]))
        #expect(try shape(range, [scalar(0), scalar(Int.min), scalar(-1)]) == Shape([Dim.unknown]))
        #expect(try range.infer([scalar(0), scalar(Int.max), scalar(1)])[0].value == nil)
        #expect(try shape(range, [reals([0], dims: []), reals([1e300], dims: []), reals([-1e-300], dims: [])]) == Shape([0]))
        #expect(try shape(range, [reals([0], dims: []), reals([-1e300], dims: []), reals([1e-300], dims: [])]) == Shape([0]))
        #expect(try shape(range, [reals([0], dims: []), reals([1e300], dims: []), reals([1e-300], dims: [])]) == Shape([Dim.unknown]))
    }

    @Test func constantInEveryForm() throws {
        #expect(try schema("Constant", inputs: 0, attributes: ["value_ints": .ints([1, 2])]).infer([])[0].value?.knownIntegers == [1, 2])
        #expect(try schema("Constant", inputs: 0, attributes: ["value_int": .int(5)]).infer([])[0].value == KnownValue(scalar: .known(5)))
        let float = try schema("Constant", inputs: 0, attributes: ["value_float": .float(0.5)]).infer([])[0]
        #expect(float.dtype == .float && float.shape == Shape([Dim]()) && float.value?.reals == [0.5])
        #expect(try shape(schema("Constant", inputs: 0, attributes: ["value_floats": .floats([1, 2, 3])]), []) == Shape([3]))
        let strings = try schema("Constant", inputs: 0, attributes: ["value_strings": .strings([[65], [66]])]).infer([])[0]
        #expect(strings.dtype == .string && strings.shape == Shape([2]))
        let tensor = try Tensor(name: "t", dtype: .int64, dims: [2], storage: .bytes(ByteRegion(copying: [3, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0])))
        #expect(try schema("Constant", inputs: 0, attributes: ["value": .tensor(tensor)]).infer([])[0].value?.knownIntegers == [3, 4])
        #expect(throws: ModelError.self) { try schema("Constant", inputs: 0) }
        #expect(throws: ModelError.self) { try schema("Constant", inputs: 0, attributes: ["value_int": .int(1), "value_float": .float(1)]) }
    }

    // MARK: Blocks, selection and the rest

    @Test func depthAndSpaceBlocks() throws {
        let toSpace = try schema("DepthToSpace", attributes: ["blocksize": .int(2), "mode": text("CRD")])
        #expect(try shape(toSpace, [fact(n, 8, 2, 3)]) == Shape([n, .known(2), .known(4), .known(6)]))
        #expect(throws: ModelError.self) { try toSpace.infer([fact([1, 6, 2, 3])]) }
        let toDepth = try schema("SpaceToDepth", attributes: ["blocksize": .int(2)])
        #expect(try shape(toDepth, [fact([1, 2, 4, 6])]) == Shape([1, 8, 2, 3]))
        #expect(throws: ModelError.self) { try toDepth.infer([fact([1, 2, 3, 6])]) }
        #expect(throws: ModelError.self) { try schema("SpaceToDepth", attributes: ["blocksize": .int(0)]) }
        let col2im = try schema("Col2Im", inputs: 3, opset: 18)
        #expect(try shape(col2im, [fact([1, 10, 12]), ints([5, 5]), ints([1, 5])]) == Shape([1, 2, 5, 5]))
        #expect(throws: ModelError.self) { try col2im.infer([fact([1, 7, 12]), ints([5, 5]), ints([1, 5])]) }
    }

    @Test func dataDependentSizesStayUnknownUnlessContentsAreKnown() throws {
        let nonZero = try schema("NonZero")
        #expect(try shape(nonZero, [fact([2, 3])]) == Shape([Dim.known(2), .unknown]))
        #expect(try shape(nonZero, [ints([0, 3, 0, 4])]) == Shape([1, 2]))
        let compress = try schema("Compress", inputs: 2, attributes: ["axis": .int(-1)])
        #expect(try shape(compress, [fact([3, 2]), fact([2], .bool)]) == Shape([Dim.known(3), .unknown]))
        #expect(try shape(compress, [fact([3, 2]), ints([0, 1, 1])]) == Shape([3, 1]))
        #expect(try shape(schema("Compress", inputs: 2), [fact([3, 2]), ints([1, 0, 1])]) == Shape([2]))
        let unique = try schema("Unique", outputs: 4)
        #expect(try unique.infer([fact([2, 3])]).map(\.shape) == [Shape([Dim.unknown]), Shape([Dim.unknown]), Shape([6]), Shape([Dim.unknown])])
        #expect(try unique.infer([ints([2, 1, 1, 3, 4, 3])]).map(\.shape) == [Shape([4]), Shape([4]), Shape([6]), Shape([4])])
        let rows = try schema("Unique", outputs: 4, attributes: ["axis": .int(0)])
        let matrix = ValueFact(dtype: .int64, value: KnownValue(dims: [3, 2], elements: .integers([1, 2, 1, 2, 3, 4].map(Dim.known))))
        #expect(try rows.infer([matrix]).map(\.shape) == [Shape([2, 2]), Shape([2]), Shape([3]), Shape([2])])
    }

    @Test func oneHotTriluEyeLikeReverseSequence() throws {
        let oneHot = try schema("OneHot", inputs: 3, attributes: ["axis": .int(1)])
        #expect(try oneHot.infer([fact([2, 2], .int64), scalar(10), fact([2])])[0] == fact([2, 10, 2]))
        #expect(try shape(schema("OneHot", inputs: 3), [fact([3], .int64), fact([1], .int64), fact([2])]) == Shape([Dim.known(3), .unknown]))
        #expect(throws: ModelError.self) { try oneHot.infer([fact([2], .int64), scalar(-1), fact([2])]) }
        #expect(try shape(schema("Trilu", inputs: 2, attributes: ["upper": .int(0)]), [fact(n, 4, 5), scalar(1)]) == Shape([n, .known(4), .known(5)]))
        let eye = try schema("EyeLike", attributes: ["dtype": .int(7)])
        #expect(try eye.infer([fact([3, 4])])[0] == fact([3, 4], .int64))
        #expect(throws: ModelError.self) { try eye.infer([fact([3])]) }
        #expect(throws: ModelError.self) { try schema("EyeLike", attributes: ["dtype": .int(999)]) }
        let reverse = try schema("ReverseSequence", inputs: 2, attributes: ["batch_axis": .int(0), "time_axis": .int(1)])
        #expect(try shape(reverse, [fact([4, 4]), fact([4], .int64)]) == Shape([4, 4]))
        #expect(throws: ModelError.self) { try schema("ReverseSequence", inputs: 2, attributes: ["batch_axis": .int(0), "time_axis": .int(0)]) }
    }

    @Test func topKAndArgExtremes() throws {
        let topK = try schema("TopK", inputs: 2, outputs: 2, opset: 11)
        let x = fact([3, 4])
        let out = try topK.infer([x, ints([3])])
        #expect(out == [fact([3, 3]), fact([3, 3], .int64)])
        #expect(topK.cost([x, ints([3])], out) == OpCost(macs: 0, flops: 12))
        #expect(throws: ModelError.self) { try topK.infer([x, ints([5])]) }
        let old = try schema("TopK", outputs: 2, attributes: ["k": .int(2), "axis": .int(0)], opset: 1)
        #expect(try shape(old, [x]) == Shape([2, 4]))
        #expect(try shape(topK, [x, fact([1], .int64)]) == Shape([Dim.known(3), .unknown]))
        let argMax = try schema("ArgMax", attributes: ["axis": .int(-1), "keepdims": .int(0)])
        #expect(try argMax.infer([fact(n, 4)])[0] == fact([n], .int64))
        let argMin = try schema("ArgMin")
        #expect(try shape(argMin, [x]) == Shape([1, 4]))
        #expect(argMin.cost([x], try argMin.infer([x])) == OpCost(macs: 0, flops: 12))
        #expect(argMin.cost([fact(n, 4)], try argMin.infer([fact(n, 4)])) == nil)
        #expect(throws: ModelError.self) { try argMax.infer([fact([Int]())]) }
    }

    @Test func cumulativeCountsOnePerElement() throws {
        for op in ["CumSum", "CumProd"] {
            let cumulative = try schema(op, inputs: 2)
            let out = try cumulative.infer([fact([2, 3]), scalar(1)])
            #expect(out == [fact([2, 3])])
            #expect(cumulative.cost([fact([2, 3]), scalar(1)], out) == OpCost(macs: 0, flops: 6))
            #expect(throws: ModelError.self) { try cumulative.infer([fact([2, 3]), scalar(2)]) }
        }
    }

    @Test func dataMovementCostsZeroEvenWithUnknownShapes() throws {
        for (op, inputs, attributes) in [("Reshape", 2, [String: AttributeValue]()), ("Transpose", 1, [:]),
                                         ("Concat", 2, ["axis": .int(0)]), ("Gather", 2, [:]), ("Expand", 2, [:])] {
            let node = try schema(op, inputs: inputs, attributes: attributes)
            let unknown = Array(repeating: ValueFact?.some(.unknown), count: inputs)
            #expect(node.cost(unknown, try node.infer(unknown)) == .zero)
        }
    }

    /// Hostile facts and attributes (extreme numbers, empty and huge shapes,
    /// NaN, mismatched ranks) give errors or unknowns, never a trap.
    @Test func hostileInputsNeverTrap() throws {
        let ops = ["Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Concat", "Split", "Slice", "Gather",
                   "GatherElements", "GatherND", "Scatter", "ScatterElements", "ScatterND", "TensorScatter", "Expand", "Tile",
                   "Pad", "CenterCropPad", "Resize", "Upsample", "Shape", "Size", "ConstantOfShape", "Range", "DepthToSpace",
                   "SpaceToDepth", "Col2Im", "NonZero", "Compress", "Unique", "OneHot", "Trilu", "ReverseSequence", "EyeLike",
                   "TopK", "ArgMax", "ArgMin", "CumSum", "CumProd", "ReduceSum", "ReduceMean", "ReduceProd", "ReduceMax"]
        let huge = 1 << 40
        let pool: [ValueFact?] = [
            nil, .unknown, fact([Int]()), fact([0]), fact([huge, huge]), fact([Int.max]), fact([3, 1, 2]),
            fact(Array(repeating: 1, count: 70)), fact(n, 4), ints([Int.min, Int.max]), ints([-1]), ints([0]), ints([]),
            ints([2, -2, 1]), scalar(Int.max), scalar(Int.min), scalar(0), reals([.nan, .infinity]), reals([-1e308, 1e308]),
            reals([0.5, 2, 3]), dims([n, .unknown]), ValueFact(dtype: .int64, value: KnownValue(dims: [huge, 0], elements: .integers([]))),
            ValueFact(dtype: .int64, value: KnownValue(dims: [2, 2], elements: .integers([.known(1)]))),
            ValueFact(dtype: .int64, value: KnownValue(dims: Array(repeating: 1, count: 100), elements: .integers([.known(1)]))),
        ]
        let attributeSets: [[String: AttributeValue]] = [
            [:], ["axis": .int(.min)], ["axis": .int(.max)], ["axes": .ints([.max, .min])], ["perm": .ints([1, 0])],
            ["k": .int(.max)], ["pads": .ints([.max, .max])], ["shape": .ints([-1, 0])], ["split": .ints([.max, .max])],
            ["num_outputs": .int(3)], ["blocksize": .int(.max)], ["batch_dims": .int(.max)], ["starts": .ints([.min]), "ends": .ints([.max])],
            ["scales": .floats([.nan, .infinity, 0, -1])], ["keepdims": .int(0), "axes": .ints([0])],
        ]
        var generator = SeededGenerator(seed: 7)
        for op in ops {
            for attributes in attributeSets {
                for opset in [1, 9, 11, 13, 18, 21] {
                    for arity in 1...5 {
                        guard let node = try? schema(op, inputs: arity, outputs: 3, attributes: attributes, opset: opset) else { continue }
                        for _ in 0..<20 {
                            let inputs = (0..<arity).map { _ in pool[Int.random(in: 0..<pool.count, using: &generator)] }
                            if let outputs = try? node.infer(inputs) { _ = node.cost(inputs, outputs) }
                        }
                    }
                }
            }
        }
    }
}
