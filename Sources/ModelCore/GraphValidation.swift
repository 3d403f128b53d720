/// Who produces and who consumes each value of a graph.
public struct GraphTopology: Sendable {
    /// Value name → index of the node that produces it.
    public let producers: [String: Int]
    /// Value name → indices of the nodes that read it, in node order
    /// (including reads from inside the node's subgraphs).
    public let consumers: [String: [Int]]
}

extension Graph {
    /// Producers and consumers of every value, by node index.
    public func topology() -> GraphTopology {
        var producers: [String: Int] = [:]
        var consumers: [String: [Int]] = [:]
        for (index, node) in nodes.enumerated() {
            for output in node.outputs where !output.isEmpty { producers[output] = index }
            for input in Set(node.inputs + node.capturedNames()) where !input.isEmpty {
                consumers[input, default: []].append(index)
            }
        }
        return GraphTopology(producers: producers, consumers: consumers)
    }

    /// Checks the graph and returns it with its nodes in topological order
    /// (the file's order when it already is one).
    ///
    /// Throws, naming the node, when a value is produced twice, consumed but
    /// never produced, or the nodes form a cycle. Subgraphs are checked too,
    /// with this graph's values in scope.
    /// - Parameter outerScope: names visible from enclosing graphs.
    public func validated(outerScope: Set<String> = []) throws(ModelError) -> Graph {
        var defined = outerScope
        var producerOf: [String: Int] = [:]
        for name in inputs.map(\.name) + initializers.map(\.name) + sparseInitializers.map(\.values.name) where !name.isEmpty {
            defined.insert(name)
        }
        for (index, node) in nodes.enumerated() {
            for output in node.outputs where !output.isEmpty {
                if let earlier = producerOf[output] {
                    throw ModelError(.invalidGraph, "value '\(output)' is produced twice, also by \(nodes[earlier].label(index: earlier))",
                                     location: node.label(index: index))
                }
                if defined.contains(output) && !outerScope.contains(output) {
                    throw ModelError(.invalidGraph, "value '\(output)' is produced by a node but is also a graph input or initializer",
                                     location: node.label(index: index))
                }
                producerOf[output] = index
            }
        }

        // Each node's dependencies: explicit inputs plus outer values its subgraphs read.
        var dependencies: [[String]] = []
        dependencies.reserveCapacity(nodes.count)
        for (index, node) in nodes.enumerated() {
            let needed = node.inputs.filter { !$0.isEmpty } + node.capturedNames()
            for name in needed where !defined.contains(name) && producerOf[name] == nil {
                throw ModelError(.invalidGraph, "consumes '\(name)', which no node, graph input or initializer provides",
                                 location: node.label(index: index))
            }
            dependencies.append(needed)
        }

        let order = try topologicalOrder(dependencies: dependencies, producerOf: producerOf)
        var sorted = self
        if order != Array(nodes.indices) { sorted.nodes = order.map { nodes[$0] } }

        // Subgraphs see every value of this graph.
        let scope = defined.union(producerOf.keys)
        for index in sorted.nodes.indices {
            for attributeIndex in sorted.nodes[index].attributes.indices {
                let label = sorted.nodes[index].label(index: index)
                switch sorted.nodes[index].attributes[attributeIndex].value {
                case .graph(let g):
                    sorted.nodes[index].attributes[attributeIndex].value = .graph(try g.validatedSubgraph(scope: scope, owner: label))
                case .graphs(let gs):
                    var checked: [Graph] = []
                    for g in gs { checked.append(try g.validatedSubgraph(scope: scope, owner: label)) }
                    sorted.nodes[index].attributes[attributeIndex].value = .graphs(checked)
                default:
                    break
                }
            }
        }
        return sorted
    }

    private func validatedSubgraph(scope: Set<String>, owner: String) throws(ModelError) -> Graph {
        do {
            return try validated(outerScope: scope)
        } catch {
            var located = error
            located.location = "\(owner) subgraph '\(name)'" + (error.location.map { ": \($0)" } ?? "")
            throw located
        }
    }

    /// Kahn's algorithm, always taking the ready node that comes first in the file.
    private func topologicalOrder(dependencies: [[String]], producerOf: [String: Int]) throws(ModelError) -> [Int] {
        var pending = [Int](repeating: 0, count: nodes.count)
        var dependents = [[Int]](repeating: [], count: nodes.count)
        for (index, needed) in dependencies.enumerated() {
            for producer in Set(needed.compactMap { producerOf[$0] }) {
                pending[index] += 1
                dependents[producer].append(index)
            }
        }
        var ready = MinHeap(nodes.indices.filter { pending[$0] == 0 })
        var order: [Int] = []
        order.reserveCapacity(nodes.count)
        while let next = ready.pop() {
            order.append(next)
            for dependent in dependents[next] {
                pending[dependent] -= 1
                if pending[dependent] == 0 { ready.push(dependent) }
            }
        }
        if order.count < nodes.count {
            throw cycleError(pending: pending, dependencies: dependencies, producerOf: producerOf)
        }
        return order
    }

    /// Walks back from a node that never became ready until a node repeats, and names that cycle.
    private func cycleError(pending: [Int], dependencies: [[String]], producerOf: [String: Int]) -> ModelError {
        var current = pending.firstIndex { $0 > 0 }!
        var path: [Int] = []
        var seen: [Int: Int] = [:]
        while seen[current] == nil {
            seen[current] = path.count
            path.append(current)
            // Some dependency of a blocked node is itself blocked.
            current = dependencies[current].compactMap { producerOf[$0] }.first { pending[$0] > 0 }!
        }
        let cycle = path[seen[current]!...] + [current]
        let names = cycle.reversed().map { nodes[$0].label(index: $0) }.joined(separator: " → ")
        return ModelError(.invalidGraph, "the graph has a cycle: \(names)", location: nodes[current].label(index: current))
    }
}

extension Node {
    /// Names read by this node's subgraphs that those subgraphs do not define themselves.
    public func capturedNames() -> [String] {
        let graphs = subgraphs
        if graphs.isEmpty { return [] }
        var names: [String] = []
        for graph in graphs { names += graph.freeNames() }
        return Array(Set(names)).sorted()
    }
}

extension Graph {
    /// Names this graph reads from enclosing scopes.
    func freeNames() -> [String] {
        var defined = Set(inputs.map(\.name) + initializers.map(\.name) + sparseInitializers.map(\.values.name))
        for node in nodes { defined.formUnion(node.outputs) }
        var free = Set<String>()
        for node in nodes {
            for name in node.inputs + node.capturedNames() where !name.isEmpty && !defined.contains(name) {
                free.insert(name)
            }
        }
        for output in outputs where !defined.contains(output.name) { free.insert(output.name) }
        return Array(free)
    }
}

/// A binary min-heap of node indices.
private struct MinHeap {
    private var items: [Int]

    init(_ values: [Int]) { items = values.sorted() }

    mutating func push(_ value: Int) {
        items.append(value)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if items[parent] <= items[child] { break }
            items.swapAt(parent, child)
            child = parent
        }
    }

    mutating func pop() -> Int? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        if items.isEmpty { return first }
        items[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < items.count && items[left] < items[smallest] { smallest = left }
            if right < items.count && items[right] < items[smallest] { smallest = right }
            if smallest == parent { break }
            items.swapAt(parent, smallest)
            parent = smallest
        }
        return first
    }
}
