import Dispatch
import ModelCore

/// A graph prepared for execution: every node's kernel built and checked up
/// front, values numbered, and each intermediate value released right after
/// its last consumer has run, so the memory of dead activations is reused.
public final class ExecutionPlan: Sendable {
    struct Step: Sendable {
        let label: String
        /// The graph's nodes this step runs: its own, then any fused into it.
        let nodes: [Int]
        let kernel: any Kernel
        /// The same kernel when it takes and gives sequences or optionals;
        /// `nil` for a tensor kernel, whose inputs are unwrapped to tensors.
        let valueKernel: (any ValueKernel)?
        /// Slot of each input; `nil` for an omitted optional input.
        let inputs: [Int?]
        let outputs: [Int?]
        /// Slots whose last reader is this step.
        let releases: [Int]
    }

    let steps: [Step]
    let slotCount: Int
    /// Each slot's value name.
    let slotNames: [String]
    let constants: [(slot: Int, tensor: EngineTensor)]
    let inputs: [(name: String, slot: Int)]
    let outputs: [(name: String, slot: Int)]
    /// Values read from enclosing graphs (subgraphs only).
    let captured: [(name: String, slot: Int)]

    /// Plans the model's main graph. Throws, naming the node, for any
    /// operator the engine cannot run — before any work is done.
    public convenience init(model: Model) throws(ModelError) {
        var opsets: [String: Int] = [:]
        for opset in model.opsets { opsets[opset.domain == "ai.onnx" ? "" : opset.domain] = Int(opset.version) }
        try self.init(graph: model.graph, opsets: opsets, outerScope: [])
    }

    init(graph: Graph, opsets: [String: Int], outerScope: Set<String>) throws(ModelError) {
        var slots: [String: Int] = [:]
        func slot(_ name: String) -> Int {
            if let existing = slots[name] { return existing }
            slots[name] = slots.count
            return slots.count - 1
        }

        var constants: [(slot: Int, tensor: EngineTensor)] = []
        var known: [String: EngineTensor] = [:]
        for tensor in graph.initializers {
            let value = try EngineTensor(tensor)
            constants.append((slot(tensor.name), value))
            known[tensor.name] = value
        }
        let initializerNames = Set(graph.initializers.map(\.name))
        inputs = graph.inputs.filter { !initializerNames.contains($0.name) }.map { ($0.name, slot($0.name)) }

        var scope = outerScope.union(graph.inputs.map(\.name)).union(initializerNames)
        for node in graph.nodes { scope.formUnion(node.outputs) }

        var steps: [(label: String, nodes: [Int], kernel: any Kernel, inputs: [Int?], outputs: [Int?])] = []
        var captured: [String: Int] = [:]
        let fusions = ConvFusion.find(in: graph, opsets: opsets)
        let convFused = Set(fusions.values.flatMap(\.absorbed)).union(fusions.keys)
        let silu = SiLUFusion.find(in: graph, excluding: convFused)
        let gelu = GELUFusion.find(in: graph, excluding: convFused.union(silu.keys).union(silu.values))
        let normActivations = NormActivationFusion.find(in: graph, opsets: opsets, excluding: convFused)
        let absorbed = Set(fusions.values.flatMap(\.absorbed)).union(silu.values).union(gelu.values.flatMap(\.absorbed))
            .union(normActivations.values.map(\.absorbed))
        /// The kernel of a node that runs inside another's step, with the constants it reads.
        func memberKernel(_ member: Node) throws(ModelError) -> any Kernel {
            let opset = opsets[member.domain == "ai.onnx" ? "" : member.domain] ?? 1
            guard let schema = try OpRegistry.schema(for: member, opset: opset) as? any Executable else {
                throw KernelSetup.noKernel(for: member)
            }
            var memberConstants: [Int: EngineTensor] = [:]
            for (i, name) in member.inputs.enumerated() where !name.isEmpty {
                if let value = known[name] { memberConstants[i] = value }
            }
            return try schema.makeKernel(KernelSetup(node: member, opset: opset, constants: memberConstants, subgraphs: [:], capturedNames: []))
        }
        let order = graph.nodes.indices.filter { !absorbed.contains($0) }
            .sorted { (fusions[$0]?.position(conv: $0) ?? $0) < (fusions[$1]?.position(conv: $1) ?? $1) }
        for index in order {
            let node = graph.nodes[index]
            let label = node.label(index: index)
            do throws(ModelError) {
                let opset = opsets[node.domain == "ai.onnx" ? "" : node.domain] ?? 1
                guard let schema = try OpRegistry.schema(for: node, opset: opset) as? any Executable else {
                    throw KernelSetup.noKernel(for: node)
                }
                var subgraphs: [String: ExecutionPlan] = [:]
                for attribute in node.attributes {
                    if case .graph(let g) = attribute.value {
                        subgraphs[attribute.name] = try ExecutionPlan(graph: g, opsets: opsets, outerScope: scope)
                    }
                }
                var nodeConstants: [Int: EngineTensor] = [:]
                for (i, name) in node.inputs.enumerated() where !name.isEmpty {
                    if let value = known[name] { nodeConstants[i] = value }
                }
                let capturedNames = Set(subgraphs.values.flatMap { $0.captured.map(\.name) }).subtracting(node.inputs).sorted()
                let setup = KernelSetup(node: node, opset: opset, constants: nodeConstants,
                                        subgraphs: subgraphs, capturedNames: capturedNames)
                let fusion = fusions[index]
                var kernel: any Kernel
                if let fusion {
                    guard let conv = schema as? Conv else { throw ModelError(.internal, "internal: a fusion that is not a Conv") }
                    kernel = try ConvKernel(conv, setup, fusion: fusion)
                } else if let pair = normActivations[index] {
                    guard let norm = schema as? BatchNormalization else { throw ModelError(.internal, "internal: a fused activation after a node that is not a BatchNormalization") }
                    kernel = try HalfPrecision(BatchNormKernel(norm, setup, clamp: pair.bounds), setup)
                } else {
                    kernel = try schema.makeKernel(setup)
                }
                var reads = node.inputs.map { $0.isEmpty ? nil : slot($0) } + capturedNames.map { slot($0) }
                if let sigmoidIndex = silu[index] {
                    // The Mul of a SiLU: the step reads only x, the Sigmoid's input.
                    let sigmoidNode = graph.nodes[sigmoidIndex]
                    kernel = SiLUKernel(sigmoid: try memberKernel(sigmoidNode), product: kernel,
                                        sigmoidFirst: node.inputs[0] == sigmoidNode.outputs[0])
                    reads = [slot(sigmoidNode.inputs[0])]
                }
                if let chain = gelu[index] {
                    // The last node of a GELU: the step reads only x.
                    var links: [GELUKernel.Link] = []
                    var chainConstants: [String: EngineTensor] = [:]
                    for member in chain.nodes {
                        let memberNode = graph.nodes[member]
                        links.append(GELUKernel.Link(kernel: member == index ? kernel : try memberKernel(memberNode),
                                                     inputs: memberNode.inputs, output: memberNode.outputs[0]))
                        for name in memberNode.inputs { chainConstants[name] = known[name] }
                    }
                    kernel = GELUKernel(form: chain.form, x: chain.x, links: links, constants: chainConstants)
                    reads = [slot(chain.x)]
                }
                if node.opType == "Constant", node.domain.isEmpty, let output = node.outputs.first,
                   case .tensor(let tensor)? = node.attribute("value")?.value {
                    known[output] = try EngineTensor(tensor)
                }
                // A random operator's outputs differ from run to run: never folded.
                let asSchema: any OpSchema = schema
                if fusion == nil, silu[index] == nil, gelu[index] == nil, normActivations[index] == nil, subgraphs.isEmpty, !(asSchema is RandomGenerator), !(kernel is any ValueKernel),
                   let folded = Self.fold(kernel, node, known) {
                    for (name, tensor) in folded {
                        known[name] = tensor
                        constants.append((slot(name), tensor))
                    }
                    continue
                }
                // Values the subgraphs read from this scope are passed after the node's inputs.
                if let residual = fusion?.residual {
                    // Input 3 of the fused kernel, after X, W and the optional bias.
                    reads += [Int?](repeating: nil, count: max(0, 3 - reads.count)) + [slot(residual)]
                }
                let writes = (fusion?.output ?? normActivations[index]?.output).map { [slot($0)] } ?? node.outputs.map { $0.isEmpty ? nil : slot($0) }
                let members = (fusion?.absorbed ?? []) + (silu[index].map { [$0] } ?? []) + (gelu[index]?.absorbed ?? [])
                    + (normActivations[index].map { [$0.absorbed] } ?? [])
                steps.append((label, [index] + members, kernel, reads, writes))
            } catch {
                var located = error
                located.location = located.location.map { "\(label): \($0)" } ?? label
                throw located
            }
        }
        for name in outerScope where slots[name] != nil && !scope.subtracting(outerScope).contains(name) {
            captured[name] = slots[name]
        }
        outputs = graph.outputs.map { ($0.name, slot($0.name)) }

        // The last step reading each slot releases it, unless it is a graph output.
        let kept = Set(outputs.map(\.slot))
        var lastUse: [Int: Int] = [:]
        for (i, step) in steps.enumerated() {
            for case let s? in step.inputs { lastUse[s] = i }
        }
        var releases = [[Int]](repeating: [], count: steps.count)
        for (s, i) in lastUse where !kept.contains(s) { releases[i].append(s) }
        self.steps = steps.enumerated().map { i, step in
            Step(label: step.label, nodes: step.nodes, kernel: step.kernel, valueKernel: step.kernel as? any ValueKernel, inputs: step.inputs.map { s in s }, outputs: step.outputs, releases: releases[i])
        }
        slotCount = slots.count
        var names = [String](repeating: "", count: slots.count)
        for (name, slot) in slots { names[slot] = name }
        slotNames = names
        self.constants = constants
        self.captured = captured.map { ($0.key, $0.value) }
    }

    /// The outputs of `node` computed once, now, when every input it reads
    /// is a constant: a transposed or dequantised weight, a shape computed
    /// from constants. Not when the node makes more than four times the
    /// bytes it reads, plus 1 MiB (an Expand or ConstantOfShape would fill
    /// memory with what the run makes and frees anyway), nor when the kernel
    /// fails: the run then meets the same error, where it belongs.
    static func fold(_ kernel: any Kernel, _ node: Node, _ known: [String: EngineTensor]) -> [(String, EngineTensor)]? {
        var inputs: [EngineTensor?] = []
        for name in node.inputs {
            if name.isEmpty {
                inputs.append(nil)
            } else if let value = known[name] {
                inputs.append(value)
            } else {
                return nil
            }
        }
        guard inputs.contains(where: { $0 != nil }),
              let outputs = try? kernel.run(inputs, ExecutionContext(threads: 1)), outputs.count >= node.outputs.count else { return nil }
        let read = inputs.reduce(0) { $0 + ($1?.buffer.byteCount ?? 0) }
        let made = outputs.reduce(0) { $0 + ($1?.buffer.byteCount ?? 0) }
        guard made <= 4 * read + (1 << 20) else { return nil }
        var folded: [(String, EngineTensor)] = []
        for (name, output) in zip(node.outputs, outputs) where !name.isEmpty {
            guard let output else { return nil }
            folded.append((name, output))
        }
        return folded
    }

    /// Names of the inputs a caller must feed.
    public var inputNames: [String] { inputs.map(\.name) }
    public var outputNames: [String] { outputs.map(\.name) }

    /// Runs the graph on `feeds`; `outer` supplies values of enclosing graphs to a subgraph.
    /// Every output must be a tensor (see `run(values:context:outer:)` for sequences and optionals).
    public func run(_ feeds: [String: EngineTensor], context: ExecutionContext,
                    outer: [String: EngineTensor] = [:]) throws(ModelError) -> [String: EngineTensor] {
        var unmeasured: LiveMemory?, untimed: [UInt64]?
        let results = try run(feeds.mapValues(EngineValue.tensor), context: context, outer: outer.mapValues(EngineValue.tensor),
                              memory: &unmeasured, stepTimes: &untimed)
        return try Self.tensors(results)
    }

    /// Runs the graph on `feeds` of any kind of value (tensors, sequences, optionals).
    public func run(values feeds: [String: EngineValue], context: ExecutionContext,
                    outer: [String: EngineValue] = [:]) throws(ModelError) -> [String: EngineValue] {
        var unmeasured: LiveMemory?, untimed: [UInt64]?
        return try run(feeds, context: context, outer: outer, memory: &unmeasured, stepTimes: &untimed)
    }

    /// The steps as a profile names them: each step's label and the graph
    /// nodes it runs (its own first, then those fused into it).
    public var stepNodes: [(label: String, nodes: [Int])] { steps.map { ($0.label, $0.nodes) } }

    /// `run(values:context:)`, also timing each step: nanoseconds per step,
    /// in the order of `stepNodes`. Reading the clock twice per step is the
    /// whole cost (tens of nanoseconds).
    public func runTimingSteps(_ feeds: [String: EngineValue],
                               context: ExecutionContext) throws(ModelError) -> (outputs: [String: EngineValue], stepNanoseconds: [UInt64]) {
        var unmeasured: LiveMemory?, times: [UInt64]? = []
        let outputs = try run(feeds, context: context, outer: [:], memory: &unmeasured, stepTimes: &times)
        return (outputs, times ?? [])
    }

    /// The outputs as tensors; a sequence or optional output is refused, naming it.
    static func tensors(_ results: [String: EngineValue]) throws(ModelError) -> [String: EngineTensor] {
        var tensors: [String: EngineTensor] = [:]
        for (name, value) in results {
            guard case .tensor(let tensor) = value else {
                throw ModelError(.unsupported(op: nil, dtype: nil), "output '\(name)' is \(value.kind), not a tensor")
            }
            tensors[name] = tensor
        }
        return tensors
    }

    /// The most activation memory a run held at once: the bytes of the
    /// distinct buffers in the plan's values (weights and other constants
    /// excluded, inputs included while the plan still reads them), measured
    /// when a step has produced its outputs and before it releases its dead
    /// inputs. Scratch memory inside kernels (im2col columns, GEMM packing,
    /// about 1 MB per thread) and the values of subgraphs are not counted.
    public struct LiveMemory: Sendable {
        public internal(set) var peakBytes = 0
        /// The step at which the peak was reached.
        public internal(set) var peakStep = ""
    }

    /// `run`, also measuring the largest set of simultaneously live activations.
    public func runMeasuringMemory(_ feeds: [String: EngineTensor],
                                   context: ExecutionContext) throws(ModelError) -> (outputs: [String: EngineTensor], memory: LiveMemory) {
        var memory: LiveMemory? = LiveMemory(), untimed: [UInt64]?
        let outputs = try run(feeds.mapValues(EngineValue.tensor), context: context, outer: [:], memory: &memory, stepTimes: &untimed)
        return (try Self.tensors(outputs), memory ?? LiveMemory())
    }

    private func run(_ feeds: [String: EngineValue], context: ExecutionContext, outer: [String: EngineValue],
                     memory: inout LiveMemory?, stepTimes: inout [UInt64]?) throws(ModelError) -> [String: EngineValue] {
        var values = try startingValues(feeds, outer: outer)
        // Several values may share a buffer (Reshape, Identity), and some are views of constants.
        let constantBuffers = memory == nil ? [] : Set(constants.map { ObjectIdentifier($0.tensor.buffer) })
        func liveBytes() -> Int {
            var seen = constantBuffers, bytes = 0
            for case let value? in values {
                for tensor in value.tensors where seen.insert(ObjectIdentifier(tensor.buffer)).inserted {
                    bytes += tensor.buffer.byteCount
                }
            }
            return bytes
        }
        for step in steps {
            let start = stepTimes == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            try perform(step, on: &values, context)
            if stepTimes != nil { stepTimes?.append(DispatchTime.now().uptimeNanoseconds - start) }
            if let peak = memory?.peakBytes {
                let bytes = liveBytes()
                if bytes > peak { memory = LiveMemory(peakBytes: bytes, peakStep: step.label) }
            }
            for slot in step.releases { values[slot] = nil }
        }
        return try outputValues(values)
    }

    /// The slots before the first step: constants, values of enclosing graphs, and the feeds.
    fileprivate func startingValues(_ feeds: [String: EngineValue], outer: [String: EngineValue]) throws(ModelError) -> [EngineValue?] {
        var values = [EngineValue?](repeating: nil, count: slotCount)
        for (slot, tensor) in constants { values[slot] = .tensor(tensor) }
        for (name, slot) in captured { values[slot] = outer[name] }
        for (name, slot) in inputs {
            guard let value = feeds[name] else { throw ModelError(.usage, "no value given for input '\(name)'") }
            values[slot] = value
        }
        return values
    }

    /// Runs one step, storing its outputs in their slots.
    fileprivate func perform(_ step: Step, on values: inout [EngineValue?], _ context: ExecutionContext) throws(ModelError) {
        do throws(ModelError) {
            if let kernel = step.valueKernel {
                let results = try kernel.run(values: step.inputs.map { slot in slot.flatMap { values[$0] } }, context)
                for (slot, result) in zip(step.outputs, results) {
                    if let slot { values[slot] = result }
                }
            } else {
                let arguments = try step.inputs.enumerated().map { k, slot throws(ModelError) in
                    try slot.flatMap { s throws(ModelError) in try values[s]?.tensor("input \(k)") }
                }
                let results = try step.kernel.run(arguments, context)
                for (slot, result) in zip(step.outputs, results) {
                    if let slot { values[slot] = result.map(EngineValue.tensor) }
                }
            }
        } catch {
            var located = error
            located.location = located.location.map { "\(step.label): \($0)" } ?? step.label
            throw located
        }
    }

    private func outputValues(_ values: [EngineValue?]) throws(ModelError) -> [String: EngineValue] {
        var result: [String: EngineValue] = [:]
        for (name, slot) in outputs {
            // A kernel leaves an optional output it does not compute (BatchNormalization's
            // training statistics, MaxPool's indices) unset.
            guard let value = values[slot] else {
                throw ModelError(.unsupported(op: nil, dtype: nil), "output '\(name)' was not computed: the engine does not produce this optional output")
            }
            result[name] = value
        }
        return result
    }

    /// The names of the values the steps make (inputs and constants are not among them).
    public var producedNames: Set<String> { Set(steps.flatMap { $0.outputs.compactMap { $0.map { slotNames[$0] } } }) }
}

/// One run of a plan, a step at a time, handing out the values each step
/// makes as it makes them: two runs side by side compare their values as
/// they go (`verify --reference`), and a value the caller lets go is freed
/// as in a plain run, so no more is held than the caller keeps.
public final class StepwiseRun {
    private let plan: ExecutionPlan
    private let context: ExecutionContext
    private var values: [EngineValue?]
    private var next = 0

    public init(_ plan: ExecutionPlan, feeds: [String: EngineValue], context: ExecutionContext) throws(ModelError) {
        self.plan = plan
        self.context = context
        values = try plan.startingValues(feeds, outer: [:])
    }

    public var isFinished: Bool { next == plan.steps.count }

    /// Runs the next step; returns the values it made, by name, with the
    /// graph nodes the step ran (its own first, then those fused into it).
    public func step() throws(ModelError) -> (nodes: [Int], values: [(name: String, value: EngineValue)]) {
        precondition(!isFinished, "no step left")
        let step = plan.steps[next]
        next += 1
        try plan.perform(step, on: &values, context)
        let made = step.outputs.compactMap { slot in slot.flatMap { s in values[s].map { (plan.slotNames[s], $0) } } }
        for slot in step.releases { values[slot] = nil }
        return (step.nodes, made)
    }
}
