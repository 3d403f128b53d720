import ModelCore
import Testing

/// Shape rules, opset-dependent axes, constant propagation and costs of the `Reduce*` operators.
@Suite struct ReductionTests {
    private let n = Dim.symbol("N")

    private func schema(_ op: String, inputs: Int = 1, attributes: [String: AttributeValue] = [:], opset: Int) throws -> any OpSchema {
        let node = Node(name: "r", opType: op, inputs: (0..<inputs).map { "x\($0)" }, outputs: ["y"],
                        attributes: attributes.map { Attribute(name: $0.key, value: $0.value) })
        return try #require(try OpRegistry.schema(for: node, opset: opset))
    }

    private func fact(_ dims: [Int]) -> ValueFact {
        ValueFact(dtype: .float, shape: Shape(dims))
    }

    private func axes(_ values: [Int]) -> ValueFact {
        ValueFact(dtype: .int64, value: KnownValue(integers: values.map(Dim.known)))
    }

    private func shape(_ op: any OpSchema, _ inputs: [ValueFact?]) throws -> Shape? {
        try op.infer(inputs)[0].shape
    }

    @Test func axesAreAnAttributeOrAnInputDependingOnTheOpset() throws {
        let x = fact([3, 2, 2])
        // ReduceSum takes axes as input from opset 13, the others from 18.
        #expect(try shape(schema("ReduceSum", inputs: 2, opset: 13), [x, axes([1])]) == Shape([3, 1, 2]))
        #expect(try shape(schema("ReduceSum", attributes: ["axes": .ints([1])], opset: 11), [x]) == Shape([3, 1, 2]))
        #expect(try shape(schema("ReduceMean", attributes: ["axes": .ints([1])], opset: 17), [x]) == Shape([3, 1, 2]))
        #expect(try shape(schema("ReduceMean", inputs: 2, opset: 18), [x, axes([1])]) == Shape([3, 1, 2]))
        #expect(throws: ModelError.self) { try schema("ReduceMax", inputs: 2, opset: 17) }
        #expect(throws: ModelError.self) { try schema("ReduceSum", inputs: 2, opset: 11) }
    }

    @Test func keepdimsNegativeAxesAndAllAxes() throws {
        let x = fact([3, 2, 2])
        let dropped = try schema("ReduceMax", inputs: 2, attributes: ["keepdims": .int(0)], opset: 18)
        #expect(try shape(dropped, [x, axes([-1])]) == Shape([3, 2]))
        #expect(try shape(dropped, [x, axes([0, 2])]) == Shape([2]))
        let all = try schema("ReduceL2", opset: 18)
        #expect(try shape(all, [x]) == Shape([1, 1, 1]))
        #expect(try shape(schema("ReduceL1", attributes: ["keepdims": .int(0)], opset: 18), [x]) == Shape([Int]()))
        let symbolic = try schema("ReduceSumSquare", attributes: ["axes": .ints([-1])], opset: 13)
        #expect(try shape(symbolic, [ValueFact(dtype: .float, shape: Shape([n, .known(7)]))]) == Shape([n, .known(1)]))
        // Reducing an empty axis gives one element per remaining position.
        #expect(try shape(schema("ReduceProd", attributes: ["axes": .ints([1])], opset: 13), [fact([2, 0, 4])]) == Shape([2, 1, 4]))
    }

    @Test func emptyAxesReduceEverythingUnlessNoop() throws {
        let x = fact([3, 2, 2])
        let reduceAll = try schema("ReduceSum", inputs: 2, opset: 13)
        #expect(try shape(reduceAll, [x, axes([])]) == Shape([1, 1, 1]))
        let noop = try schema("ReduceSum", inputs: 2, attributes: ["noop_with_empty_axes": .int(1)], opset: 13)
        #expect(try shape(noop, [x, axes([])]) == Shape([3, 2, 2]))
        #expect(try shape(noop, [x, nil]) == Shape([3, 2, 2]))
        #expect(noop.cost([x, nil], try noop.infer([x, nil])) == .zero)
    }

    @Test func unknownAxesLeaveWhatCannotBeKnownUnknown() throws {
        let x = ValueFact(dtype: .float, shape: Shape([.known(3), .known(1), n]))
        let unknownAxes = ValueFact(dtype: .int64, shape: Shape([1]))
        let kept = try schema("ReduceSum", inputs: 2, opset: 13)
        #expect(try shape(kept, [x, unknownAxes]) == Shape([Dim.unknown, .known(1), .unknown]))
        let dropped = try schema("ReduceSum", inputs: 2, attributes: ["keepdims": .int(0)], opset: 13)
        #expect(try shape(dropped, [x, unknownAxes]) == Shape([Dim.unknown, .unknown]))
        #expect(try shape(dropped, [x, ValueFact(dtype: .int64, shape: nil)]) == nil)
    }

    @Test func invalidAxesAreErrors() throws {
        let reduce = try schema("ReduceMin", inputs: 2, opset: 18)
        #expect(throws: ModelError.self) { try reduce.infer([fact([3, 2]), axes([2])]) }
        #expect(throws: ModelError.self) { try reduce.infer([fact([3, 2]), axes([1, -1])]) }
        #expect(throws: ModelError.self) { try schema("ReduceMin", attributes: ["axes": .float(1)], opset: 13) }
    }

    @Test func knownIntegerContentsAreReduced() throws {
        // numel of a shape read with Shape, as exporters compute it.
        let shapeValue = ValueFact(dtype: .int64, value: KnownValue(integers: [n, .known(3), .known(4)]))
        let prod = try schema("ReduceProd", attributes: ["keepdims": .int(0)], opset: 13).infer([shapeValue])[0]
        #expect(prod.shape == Shape([Int]()) && prod.value == KnownValue(scalar: .symbol("12*N")))
        let matrix = ValueFact(dtype: .int64, value: KnownValue(dims: [2, 3], elements: .integers([1, 5, 2, 7, 0, 3].map(Dim.known))))
        let max = try schema("ReduceMax", attributes: ["axes": .ints([1])], opset: 13).infer([matrix])[0]
        #expect(max.value == KnownValue(dims: [2, 1], elements: .integers([5, 7].map(Dim.known))))
        let sum = try schema("ReduceSum", inputs: 2, opset: 13).infer([matrix, axes([0])])[0]
        #expect(sum.value?.knownIntegers == [8, 5, 5])
        let mean = try schema("ReduceMean", attributes: ["axes": .ints([1])], opset: 13).infer([matrix])[0]
        #expect(mean.value == nil)
    }

    @Test func costsPerKind() throws {
        // 12 input elements reduced to 3 outputs.
        let x = fact([3, 4])
        let expected: [(String, Int)] = [
            ("ReduceSum", 12), ("ReduceMax", 12), ("ReduceMin", 12), ("ReduceProd", 12),
            ("ReduceMean", 12 + 3), ("ReduceLogSum", 12 + 3),
            ("ReduceL1", 24), ("ReduceSumSquare", 24), ("ReduceL2", 24 + 3), ("ReduceLogSumExp", 24 + 3),
        ]
        for (op, flops) in expected {
            let reduce = try schema(op, attributes: ["axes": .ints([1])], opset: 13)
            #expect(reduce.cost([x], try reduce.infer([x])) == OpCost(macs: 0, flops: flops), "\(op)")
        }
        let symbolic = ValueFact(dtype: .float, shape: Shape([n, .known(4)]))
        let reduce = try schema("ReduceMean", attributes: ["axes": .ints([1])], opset: 13)
        #expect(reduce.cost([symbolic], try reduce.infer([symbolic])) == nil)
    }
}
