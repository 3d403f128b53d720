/// A top-down drawing of a directed graph, computed once when a report is
/// made so that the browser only draws: layers by the longest path from the
/// sources, the order within each layer by barycenter sweeps (an edge that
/// spans several layers passes through one placeholder per layer, so that it
/// takes part in the ordering), then coordinates that pull each item over
/// the items it reads.
///
/// Items come in an order that is topological for most edges (a graph's
/// execution order); an edge against that order is laid out as if reversed,
/// so any input gives a layering.
struct LayeredLayout {
    struct Size {
        var width: Double
        var height: Double
    }

    /// Top-left corner and size of one item.
    struct Box {
        var x: Double
        var y: Double
        var width: Double
        var height: Double

        var centerX: Double { x + width / 2 }
        var bottom: Double { y + height }
    }

    /// An edge as the polyline it is drawn along: the source's bottom centre,
    /// its placeholders, the target's top centre.
    struct Route {
        var from: Int
        var to: Int
        var points: [(x: Double, y: Double)]
    }

    var boxes: [Box]
    /// The layer of each item, from 0 at the top.
    var layers: [Int]
    var routes: [Route]
    var width: Double
    var height: Double

    static let horizontalGap = 16.0
    static let verticalGap = 36.0
    static let margin = 8.0
    /// Edges longer than this many layers are drawn straight, without
    /// placeholders: a value read by every block of a deep model (a rotary
    /// table, an attention mask) would otherwise add a placeholder per layer
    /// per reader.
    static let longestRoutedSpan = 48
    static let sweeps = 4

    /// Lays out items of `sizes` joined by `edges` (pairs of item indices;
    /// self-loops and repeats are ignored).
    init(sizes: [Size], edges: [(Int, Int)]) {
        let n = sizes.count
        var seen = Set<Int>()
        var forward: [(Int, Int)] = []
        for (a, b) in edges where a != b && a >= 0 && b >= 0 && a < n && b < n {
            let edge = a < b ? (a, b) : (b, a)
            if seen.insert(edge.0 * n + edge.1).inserted { forward.append(edge) }
        }
        forward.sort { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }

        // Longest path from the sources; edges are sorted by target, and every
        // source precedes its target.
        var layer = [Int](repeating: 0, count: n)
        for (a, b) in forward { layer[b] = max(layer[b], layer[a] + 1) }
        layers = layer
        let layerCount = (layer.max() ?? -1) + 1

        // Placeholder vertices: indices n... in `vertexLayer`.
        var vertexLayer = layer
        var vertexWidth = sizes.map(\.width)
        var chains: [[Int]] = []    // per edge: vertices from source to target
        var up = [[Int]](repeating: [], count: n), down = [[Int]](repeating: [], count: n)
        for (a, b) in forward {
            var chain = [a]
            if layer[b] - layer[a] <= Self.longestRoutedSpan {
                for l in (layer[a] + 1)..<layer[b] {
                    chain.append(vertexLayer.count)
                    vertexLayer.append(l)
                    vertexWidth.append(2)
                    up.append([])
                    down.append([])
                }
            }
            chain.append(b)
            for (u, v) in zip(chain, chain.dropFirst()) where vertexLayer[v] == vertexLayer[u] + 1 {
                down[u].append(v)
                up[v].append(u)
            }
            chains.append(chain)
        }

        // Order within layers: first by item order, then barycenter sweeps.
        var rows = [[Int]](repeating: [], count: max(layerCount, 0))
        for v in vertexLayer.indices { rows[vertexLayer[v]].append(v) }
        var position = [Double](repeating: 0, count: vertexLayer.count)
        for row in rows { for (i, v) in row.enumerated() { position[v] = Double(i) } }
        for sweep in 0..<Self.sweeps {
            let downward = sweep % 2 == 0
            for l in (downward ? Array(rows.indices.dropFirst()) : Array(rows.indices.dropLast().reversed())) {
                let keys = rows[l].map { v -> Double in
                    let neighbours = downward ? up[v] : down[v]
                    guard !neighbours.isEmpty else { return position[v] }
                    return neighbours.reduce(0) { $0 + position[$1] } / Double(neighbours.count)
                }
                let order = rows[l].indices.sorted { keys[$0] != keys[$1] ? keys[$0] < keys[$1] : position[rows[l][$0]] < position[rows[l][$1]] }
                rows[l] = order.map { rows[l][$0] }
                for (i, v) in rows[l].enumerated() { position[v] = Double(i) }
            }
        }

        // Coordinates: rows stacked; within a row, each vertex wants to sit
        // over the centres of what it reads, and is pushed right of its left
        // neighbour.
        var rowTop = [Double](repeating: 0, count: rows.count), rowHeight = rowTop
        var y = Self.margin
        for (l, row) in rows.enumerated() {
            rowTop[l] = y
            rowHeight[l] = row.filter { $0 < n }.map { sizes[$0].height }.max() ?? 0
            y += rowHeight[l] + Self.verticalGap
        }
        var center = [Double](repeating: 0, count: vertexLayer.count)
        for row in rows {
            var x = Self.margin
            for v in row {
                center[v] = x + vertexWidth[v] / 2
                x += vertexWidth[v] + Self.horizontalGap
            }
        }
        for _ in 0..<2 {
            for row in rows {
                var right = -Double.infinity
                for v in row {
                    let wanted = up[v].isEmpty ? center[v] : up[v].reduce(0) { $0 + center[$1] } / Double(up[v].count)
                    let left = max(wanted - vertexWidth[v] / 2, right == -.infinity ? Self.margin : right + Self.horizontalGap)
                    center[v] = left + vertexWidth[v] / 2
                    right = left + vertexWidth[v]
                }
            }
        }
        boxes = (0..<n).map { v in
            Box(x: center[v] - sizes[v].width / 2, y: rowTop[layer[v]], width: sizes[v].width, height: sizes[v].height)
        }
        let boxes = boxes
        routes = zip(forward, chains).map { edge, chain in
            var points = [(x: boxes[edge.0].centerX, y: boxes[edge.0].bottom)]
            for v in chain.dropFirst().dropLast() { points.append((center[v], rowTop[vertexLayer[v]] + rowHeight[vertexLayer[v]] / 2)) }
            points.append((boxes[edge.1].centerX, boxes[edge.1].y))
            return Route(from: edge.0, to: edge.1, points: points)
        }
        width = (center.indices.map { center[$0] + vertexWidth[$0] / 2 }.max() ?? 0) + Self.margin
        height = max(y - Self.verticalGap + Self.margin, 0)
    }
}
