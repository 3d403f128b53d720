import ModelInfo
import Testing
import TestSupport

/// LinearAttention, Unique, CenterCropPad and Det on cases small enough to
/// work out by hand, and the bad inputs each must refuse with a one-line
/// error. Inputs are declared without shapes, so that the kernels, not the
/// shape rules, meet the bad ones.
@Suite struct LinearAttentionUniqueCenterCropPadDetTests {
    private func tensor<T>(_ values: [T], _ dtype: DType, _ shape: [Int]) throws -> EngineTensor { try .holding(values, dtype, shape) }

    private func floats(_ values: [Float], _ shape: [Int]) throws -> EngineTensor { try tensor(values, .float, shape) }

    private func int64s(_ values: [Int64]) throws -> EngineTensor { try tensor(values, .int64, [values.count]) }

    private func values<T>(_ t: EngineTensor, _ type: T.Type) -> [T] { Array(t.elements(T.self)) }

    /// Runs `op` in a one-node graph on `inputs` (nil for an omitted one) and returns its `outputs` outputs.
    private func run(_ op: String, _ inputs: [EngineTensor?], outputs: Int = 1, attributes: [String: AttributeValue] = [:],
                     opset: Int64 = 28, threads: Int = 2) throws -> [EngineTensor] {
        let names = inputs.indices.map { inputs[$0] == nil ? "" : "x\($0)" }
        let outputNames = (0..<outputs).map { "y\($0)" }
        let node = Node(name: "n", opType: op, inputs: names, outputs: outputNames,
                        attributes: attributes.map { Attribute(name: $0.key, value: $0.value) })
        let given = zip(names, inputs).compactMap { name, t in t.map { (name, $0) } }
        let graph = Graph(nodes: [node], inputs: given.map { ValueInfo(name: $0.0, type: .tensor($0.1.dtype, nil)) },
                          outputs: outputNames.map { ValueInfo(name: $0) })
        let plan = try ExecutionPlan(model: Model(irVersion: 10, opsets: [OpsetID(domain: "", version: opset)], graph: graph))
        let results = try plan.run(Dictionary(uniqueKeysWithValues: given), context: ExecutionContext(threads: threads))
        return try outputNames.map { try #require(results[$0]) }
    }

    /// The error running `op` gives, checked to be one line that mentions `fragment`.
    private func refusal(_ fragment: String, _ op: String, _ inputs: [EngineTensor?], outputs: Int = 1,
                         attributes: [String: AttributeValue] = [:]) {
        let error = #expect(throws: ModelError.self) { try run(op, inputs, outputs: outputs, attributes: attributes) }
        let text = error?.description ?? ""
        #expect(text.contains(fragment), "\(text)")
        #expect(!text.contains("\n"), "\(text)")
    }

    private func close(_ actual: [Float], _ expected: [Float], tolerance: Float = 1e-6) {
        #expect(actual.count == expected.count)
        for (a, e) in zip(actual, expected) { #expect(abs(a - e) <= tolerance, "\(actual) vs \(expected)") }
    }

    // MARK: - LinearAttention

    private func heads(_ q: Int, _ kv: Int, rule: String, scale: Float? = nil) -> [String: AttributeValue] {
        var attributes: [String: AttributeValue] = ["q_num_heads": .int(Int64(q)), "kv_num_heads": .int(Int64(kv)),
                                                    "update_rule": .string(Array(rule.utf8))]
        if let scale { attributes["scale"] = .float(scale) }
        return attributes
    }

    /// One head, d_k = 2, d_v = 1: S = k₀v₀ = (3, 6), then + k₁v₁ = (4, 6); outputs are scale · q·S.
    @Test(arguments: [1, 3])
    func linearRuleAccumulatesOuterProducts(threads: Int) throws {
        let q = try floats([1, 1, 0, 1], [1, 2, 2]), k = try floats([1, 2, 1, 0], [1, 2, 2]), v = try floats([3, 1], [1, 2, 1])
        let explicit = try run("LinearAttention", [q, k, v], outputs: 2, attributes: heads(1, 1, rule: "linear", scale: 0.5), threads: threads)
        #expect(explicit[0].shape == [1, 2, 1])
        #expect(values(explicit[0], Float.self) == [4.5, 3])
        #expect(explicit[1].shape == [1, 1, 2, 1])
        #expect(values(explicit[1], Float.self) == [4, 6])
        // Scale 0 (the default) is 1/√d_k.
        let derived = try run("LinearAttention", [q, k, v], outputs: 2, attributes: heads(1, 1, rule: "linear"), threads: threads)
        close(values(derived[0], Float.self), [9 / Float(2).squareRoot(), 6 / Float(2).squareRoot()])
    }

    /// Two query heads share one state of d_k = d_v = 1 starting at 2 (a float16 past state):
    /// decay ½ gives 1, the delta rule writes ½ · (3 − 1 · 2) = ½, so S = 1 + 2 · ½ = 2,
    /// read by query heads 1 and −2. The present state keeps the past state's type.
    @Test func gatedDeltaSharesOneStateAndKeepsThePastStateType() throws {
        let past = try tensor([Float16(2)], .float16, [1, 1, 1, 1])
        let inputs = [try floats([1, -2], [1, 1, 2]), try floats([2], [1, 1, 1]), try floats([3], [1, 1, 1]), past,
                      try floats([-0.69314718], [1, 1, 1]), try floats([0.5], [1, 1, 1])]
        let results = try run("LinearAttention", inputs, outputs: 2, attributes: heads(2, 1, rule: "gated_delta", scale: 1))
        #expect(results[0].dtype == .float)
        close(values(results[0], Float.self), [2, -4])
        #expect(results[1].dtype == .float16)
        #expect(values(results[1], Float16.self) == [2])
    }

    /// Per key row, the gated rule decays row d by exp(g_d) before adding k ⊗ v.
    @Test func gatedRuleDecaysEachKeyRow() throws {
        let past = try floats([4, 4], [1, 1, 2, 1])
        let decay = try floats([-0.69314718, 0], [1, 1, 2])
        let inputs = [try floats([1, 1], [1, 1, 2]), try floats([1, 0], [1, 1, 2]), try floats([1], [1, 1, 1]), past, decay]
        let results = try run("LinearAttention", inputs, outputs: 2, attributes: heads(1, 1, rule: "gated", scale: 1))
        close(values(results[1], Float.self), [3, 4])
        close(values(results[0], Float.self), [7])
    }

    /// Without tokens the output is empty and the present state is the past one.
    @Test func noTokensPassTheStateThrough() throws {
        let empty = try floats([], [1, 0, 2])
        let results = try run("LinearAttention", [empty, empty, try floats([], [1, 0, 1]), try floats([5, 7], [1, 1, 2, 1])], outputs: 2,
                              attributes: heads(1, 1, rule: "linear"))
        #expect(results[0].shape == [1, 0, 1])
        #expect(values(results[1], Float.self) == [5, 7])
    }

    @Test func linearAttentionRefusesInconsistentInputs() throws {
        let q = try floats([1, 1, 0, 1], [1, 2, 2]), k = try floats([1, 2, 1, 0], [1, 2, 2]), v = try floats([3, 1], [1, 2, 1])
        let gate = try floats([0, 0], [1, 2, 1])
        refusal("needs decay", "LinearAttention", [q, k, v], outputs: 2, attributes: heads(1, 1, rule: "gated"))
        refusal("takes no decay", "LinearAttention", [q, k, v, nil, gate], outputs: 2, attributes: heads(1, 1, rule: "linear"))
        refusal("beta", "LinearAttention", [q, k, v, nil, nil, try floats([0, 0, 0, 0], [1, 2, 2])], outputs: 2,
                attributes: heads(1, 1, rule: "delta"))
        refusal("key", "LinearAttention", [q, try floats([1, 2, 3, 4, 5, 6], [1, 2, 3]), v], outputs: 2, attributes: heads(1, 1, rule: "linear"))
        refusal("past_state", "LinearAttention", [q, k, v, try floats([0, 0, 0], [1, 1, 3, 1])], outputs: 2,
                attributes: heads(1, 1, rule: "linear"))
        refusal("rank 3", "LinearAttention", [try floats([1, 1], [2]), k, v], outputs: 2, attributes: heads(1, 1, rule: "linear"))
        refusal("split", "LinearAttention", [try floats([1, 1, 1, 1, 1, 1], [1, 2, 3]), k, v], outputs: 2, attributes: heads(2, 1, rule: "linear"))
        // An empty query splits into any number of heads; their output width must still fit.
        refusal("too many", "LinearAttention", [try floats([], [1, 1, 0]), try floats([], [1, 1, 0]), try floats([1, 2], [1, 1, 2])],
                outputs: 2, attributes: heads(1 << 62, 1, rule: "linear"))
        refusal("float16", "LinearAttention", [try tensor([1, 1, 0, 1] as [Int32], .int32, [1, 2, 2]), k, v], outputs: 2,
                attributes: heads(1, 1, rule: "linear"))
    }

    // MARK: - Unique

    /// NaN sorts last and equals NaN; −0 equals 0 and the first occurrence gives the value.
    @Test func uniqueSortsWithNaNLastOrKeepsFirstOccurrences() throws {
        let x = try floats([3, .nan, 0, -0.0, 3, .nan, 1], [7])
        let sorted = try run("Unique", [x], outputs: 4)
        let y = values(sorted[0], Float.self)
        #expect(y.count == 4 && y[0] == 0 && y[0].sign == .plus && y[1] == 1 && y[2] == 3 && y[3].isNaN)
        #expect(values(sorted[1], Int64.self) == [2, 6, 0, 1])
        #expect(values(sorted[2], Int64.self) == [2, 3, 0, 0, 2, 3, 1])
        #expect(values(sorted[3], Int64.self) == [2, 1, 2, 2])

        let unsorted = try run("Unique", [x], outputs: 4, attributes: ["sorted": .int(0)])
        let z = values(unsorted[0], Float.self)
        #expect(z.count == 4 && z[0] == 3 && z[1].isNaN && z[2] == 0 && z[3] == 1)
        #expect(values(unsorted[1], Int64.self) == [0, 1, 2, 6])
        #expect(values(unsorted[2], Int64.self) == [0, 1, 2, 2, 0, 1, 3])
        #expect(values(unsorted[3], Int64.self) == [2, 2, 2, 1])
    }

    /// Slices along axis 1 (written −2) compare lexicographically in row-major order.
    @Test func uniqueComparesSlicesAlongAnAxis() throws {
        let x = try floats([1, 1, 0, 1, 2, 1, 0, 1, 1, 1, 0, 1, 2, 1, 0, 1], [2, 4, 2])
        let results = try run("Unique", [x], outputs: 4, attributes: ["axis": .int(-2)])
        #expect(results[0].shape == [2, 3, 2])
        #expect(values(results[0], Float.self) == [0, 1, 1, 1, 2, 1, 0, 1, 1, 1, 2, 1])
        #expect(values(results[1], Int64.self) == [1, 0, 2])
        #expect(values(results[2], Int64.self) == [1, 0, 2, 0])
        #expect(values(results[3], Int64.self) == [2, 1, 1])
    }

    /// int64 values beyond 2^53 stay distinct; strings sort by bytes.
    @Test func uniqueKeepsWideIntegersAndStrings() throws {
        let wide = try run("Unique", [try int64s([1 << 53 + 1, 1 << 53, 1 << 53 + 1])], outputs: 4)
        #expect(values(wide[0], Int64.self) == [1 << 53, 1 << 53 + 1])
        #expect(values(wide[3], Int64.self) == [1, 2])

        let words = EngineTensor(strings: ["b", "a", "b", ""].map { Array($0.utf8) }, shape: [2, 2])
        let results = try run("Unique", [words], outputs: 4)
        #expect(results[0].strings == ["", "a", "b"].map { Array($0.utf8) })
        #expect(values(results[1], Int64.self) == [3, 1, 0])
        #expect(values(results[2], Int64.self) == [2, 1, 2, 0])
    }

    @Test func uniqueOfNothingIsEmptyAndABadAxisIsRefused() throws {
        let empty = try run("Unique", [try floats([], [0, 3])], outputs: 4)
        #expect(empty.map(\.shape) == [[0], [0], [0], [0]])
        let rows = try run("Unique", [try floats([], [0, 3])], outputs: 4, attributes: ["axis": .int(1)])
        #expect(rows[0].shape == [0, 1])
        refusal("axis 2", "Unique", [try floats([1, 2], [2])], outputs: 4, attributes: ["axis": .int(2)])
    }

    // MARK: - CenterCropPad

    /// An odd crop starts one element early; an odd pad puts the extra zero at the end.
    @Test func centerCropPadCentresOddDifferences() throws {
        let x = try floats([0, 1, 2, 3, 4], [5])
        #expect(values(try run("CenterCropPad", [x, try int64s([2])], opset: 18)[0], Float.self) == [1, 2])
        #expect(values(try run("CenterCropPad", [x, try int64s([8])], opset: 18)[0], Float.self) == [0, 0, 1, 2, 3, 4, 0, 0])
        #expect(values(try run("CenterCropPad", [x, try int64s([0])], opset: 18)[0], Float.self) == [])
    }

    /// Only the listed axes change (negative ones count from the end), int32 sizes, any element type.
    @Test func centerCropPadTouchesOnlyItsAxes() throws {
        let x = try tensor([1, 2, 3, 4, 5, 6] as [Int16], .int16, [2, 3])
        let y = try run("CenterCropPad", [x, try tensor([1] as [Int32], .int32, [1])], attributes: ["axes": .ints([-1])], opset: 18)[0]
        #expect(y.shape == [2, 1])
        #expect(values(y, Int16.self) == [2, 5])
        let words = EngineTensor(strings: ["a", "b"].map { Array($0.utf8) }, shape: [2])
        #expect(try run("CenterCropPad", [words, try int64s([3])], opset: 18)[0].strings == ["a", "b", ""].map { Array($0.utf8) })
    }

    @Test func centerCropPadRefusesBadSizes() throws {
        let x = try floats([0, 1, 2, 3], [2, 2])
        refusal("negative", "CenterCropPad", [x, try int64s([2, -1])])
        refusal("2 axes", "CenterCropPad", [x, try int64s([2])])
        refusal("repeated", "CenterCropPad", [x, try int64s([2, 2])], attributes: ["axes": .ints([0, -2])])
        refusal("large", "CenterCropPad", [x, try int64s([Int64.max, Int64.max])])
    }

    // MARK: - Det

    /// The 3 × 3 matrix needs a row exchange (its first pivot is 0); a singular matrix gives 0.
    @Test func determinantPivotsAndBatches() throws {
        let two = try run("Det", [try floats([1, 2, 3, 4], [2, 2])], opset: 22)[0]
        #expect(two.shape == [])
        #expect(values(two, Float.self) == [-2])
        let batch = try run("Det", [try floats([0, 1, 2, 1, 0, 3, 4, -3, 8, 1, 2, 3, 2, 4, 6, 0, 0, 1], [2, 3, 3])], opset: 22)[0]
        #expect(batch.shape == [2])
        close(values(batch, Float.self), [-2, 0])
        let wide = try run("Det", [try tensor([2, 0, 0, 0.5] as [Double], .double, [1, 2, 2])], opset: 22)[0]
        #expect(values(wide, Double.self) == [1])
        // The determinant of a 0 × 0 matrix is 1, as an empty product.
        #expect(values(try run("Det", [try floats([], [2, 0, 0])], opset: 22)[0], Float.self) == [1, 1])
    }

    @Test func determinantRefusesWhatIsNotASquareFloatMatrix() throws {
        refusal("square", "Det", [try floats([1, 2, 3, 4, 5, 6], [2, 3])])
        refusal("rank 2", "Det", [try floats([1, 2], [2])])
        refusal("int32", "Det", [try tensor([1, 2, 3, 4] as [Int32], .int32, [2, 2])])
    }
}
