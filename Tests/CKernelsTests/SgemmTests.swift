import CKernels
import Dispatch
import Foundation
import Testing

/// The kernel variants this machine can run; each test runs on all of them.
let availableKernels = [CK_KERNEL_PORTABLE, CK_KERNEL_AVX2, CK_KERNEL_AVX512].filter { ck_kernel_available($0) != 0 }

extension ck_kernel: @retroactive CustomTestStringConvertible {
    public var testDescription: String { ["portable", "avx2", "avx512"][Int(rawValue)] }
}

/// Seeded pseudo-random numbers in [-1, 1), so that failures reproduce.
struct Numbers {
    var state: UInt64

    mutating func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(state >> 40) / Float(1 << 23) - 1
    }

    mutating func array(_ count: Int) -> [Float] { (0..<count).map { _ in next() } }
}

/// A row-major matrix whose rows are `stride` wide; the padding past `columns`
/// holds NaN, so a kernel that reads it poisons its result.
struct Matrix {
    var rows: Int, columns: Int, stride: Int
    var storage: [Float]

    init(rows: Int, columns: Int, padding: Int, numbers: inout Numbers) {
        self.rows = rows
        self.columns = columns
        stride = columns + padding
        storage = [Float](repeating: .nan, count: max(rows * stride, 1))
        for row in 0..<rows {
            for column in 0..<columns { storage[row * stride + column] = numbers.next() }
        }
    }

    subscript(row: Int, column: Int) -> Float { storage[row * stride + column] }
}

/// One product, its operands and the reference result with its error bound.
struct Product {
    var transA: Bool, transB: Bool
    var m: Int, n: Int, k: Int
    var alpha: Float, beta: Float
    var a: Matrix, b: Matrix, c: Matrix
    var bias: [Float]?
    /// Added after the bias, before the activation; rows `stride` apart.
    var residual: Matrix?
    var activation = CK_ACTIVATION_NONE
    var clip: (min: Float, max: Float) = (0, 0)

    init(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0,
         padding: Int = 0, bias: Bool = false, seed: UInt64) {
        var numbers = Numbers(state: seed)
        self.transA = transA
        self.transB = transB
        self.m = m
        self.n = n
        self.k = k
        self.alpha = alpha
        self.beta = beta
        a = transA ? Matrix(rows: k, columns: m, padding: padding, numbers: &numbers)
            : Matrix(rows: m, columns: k, padding: padding, numbers: &numbers)
        b = transB ? Matrix(rows: n, columns: k, padding: padding + 1, numbers: &numbers)
            : Matrix(rows: k, columns: n, padding: padding + 1, numbers: &numbers)
        c = Matrix(rows: m, columns: n, padding: padding + 2, numbers: &numbers)
        if beta == 0 {
            // C must not be read when beta is 0.
            for i in c.storage.indices { c.storage[i] = .nan }
        }
        self.bias = bias ? numbers.array(m) : nil
    }

    /// C as ck_sgemm_fused_with_kernel leaves it.
    func run(_ kernel: ck_kernel) -> [Float] {
        var out = c.storage
        let biasValues = bias ?? [], residualValues = residual?.storage ?? []
        a.storage.withUnsafeBufferPointer { aValues in
            b.storage.withUnsafeBufferPointer { bValues in
                biasValues.withUnsafeBufferPointer { biasValues in
                    residualValues.withUnsafeBufferPointer { residualValues in
                        out.withUnsafeMutableBufferPointer { out in
                            ck_sgemm_fused_with_kernel(kernel, transA ? 1 : 0, transB ? 1 : 0, m, n, k,
                                                       alpha, aValues.baseAddress, a.stride, bValues.baseAddress, b.stride,
                                                       beta, out.baseAddress, c.stride,
                                                       bias == nil ? nil : biasValues.baseAddress,
                                                       residual == nil ? nil : residualValues.baseAddress, residual?.stride ?? 0,
                                                       activation, clip.min, clip.max)
                        }
                    }
                }
            }
        }
        return out
    }

    /// The exact result (in Double) and a bound on float32 rounding error, a
    /// few units in the last place times K times the magnitudes involved, for
    /// every element of C. Through raw pointers: debug builds check every
    /// array subscript, and this loop runs hundreds of millions of times.
    func reference() -> (values: [Double], tolerances: [Double]) {
        var values = [Double](repeating: 0, count: m * n), tolerances = values
        a.storage.withUnsafeBufferPointer { aValues in
            b.storage.withUnsafeBufferPointer { bValues in
                let a = aValues.baseAddress!, b = bValues.baseAddress!
                // op(X)[row][p] lives at rowStep·row + pStep·p.
                let (aRow, aStep) = transA ? (1, self.a.stride) : (self.a.stride, 1)
                let (bStep, bColumn) = transB ? (1, self.b.stride) : (self.b.stride, 1)
                for i in 0..<m {
                    for j in 0..<n {
                        var sum = 0.0, magnitude = 0.0
                        var pa = a + i * aRow, pb = b + j * bColumn
                        for _ in 0..<k {
                            let product = Double(pa.pointee) * Double(pb.pointee)
                            sum += product
                            magnitude += abs(product)
                            pa += aStep
                            pb += bStep
                        }
                        values[i * n + j] = sum
                        tolerances[i * n + j] = magnitude
                    }
                }
            }
        }
        for i in 0..<m {
            for j in 0..<n {
                var value = Double(alpha) * values[i * n + j]
                var scale = abs(Double(alpha)) * tolerances[i * n + j]
                if beta != 0 {
                    value += Double(beta) * Double(c[i, j])
                    scale += abs(Double(beta) * Double(c[i, j]))
                }
                if let bias {
                    value += Double(bias[i])
                    scale += abs(Double(bias[i]))
                }
                if let residual {
                    value += Double(residual[i, j])
                    scale += abs(Double(residual[i, j]))
                }
                switch activation {
                case CK_ACTIVATION_RELU: value = max(value, 0)
                case CK_ACTIVATION_CLIP: value = min(max(value, Double(clip.min)), Double(clip.max))
                default: break
                }
                values[i * n + j] = value
                tolerances[i * n + j] = 4 * Double(Float.ulpOfOne) * Double(k + 3) * scale + 1e-30
            }
        }
        return (values, tolerances)
    }

    /// Checks `out` against the reference, and that C's padding is untouched;
    /// records at most a few failures.
    func check(_ out: [Float], _ label: @autoclosure () -> String) {
        let (values, tolerances) = reference()
        var failures = 0
        for i in 0..<m {
            for j in 0..<c.stride where failures < 3 {
                let got = out[i * c.stride + j]
                if j >= n {
                    let original = c.storage[i * c.stride + j]
                    if !(got == original || (got.isNaN && original.isNaN)) {
                        failures += 1
                        Issue.record("\(label()): padding C[\(i), \(j)] changed to \(got)")
                    }
                    continue
                }
                let want = values[i * n + j], tolerance = tolerances[i * n + j]
                if !(abs(Double(got) - want) <= tolerance) {
                    failures += 1
                    Issue.record("\(label()): C[\(i), \(j)] = \(got), want \(want) ± \(tolerance)")
                }
            }
        }
    }
}

@Suite struct SgemmTests {
    static let sizes = [1, 2, 3, 7, 15, 16, 17, 31, 48, 49, 63, 65, 127, 129]
    static let depths = [1, 2, 3, 7, 16, 17, 31, 63, 65, 127, 129, 300]

    @Test(arguments: availableKernels)
    func matchesReferenceOverShapesTransposesAndScalars(kernel: ck_kernel) {
        var index = 0
        for transA in [false, true] {
            for transB in [false, true] {
                for m in Self.sizes {
                    for n in Self.sizes {
                        // K, the scalars and the padding rotate with the case
                        // so that every value meets many shapes.
                        index += 1
                        let product = Product(
                            transA: transA, transB: transB, m: m, n: n, k: Self.depths[index % Self.depths.count],
                            alpha: [1, 0.5, -2][index % 3], beta: [0, 1, 0.75, 0][index % 4],
                            padding: [0, 3, 1][index % 3], seed: UInt64(index))
                        product.check(product.run(kernel),
                                      "transA \(transA) transB \(transB) M \(m) N \(n) K \(product.k)")
                    }
                }
            }
        }
    }

    /// Products larger than one cache block in each dimension in turn (kc,
    /// mc and nc are at most 256, 256 and 768 floats), so that several panels
    /// of K accumulate into C and the blocks of M and N meet.
    @Test(arguments: availableKernels)
    func matchesReferenceAcrossCacheBlocks(kernel: ck_kernel) {
        for (index, (m, n, k)) in [(20, 50, 600), (300, 40, 30), (19, 1601, 20), (37, 801, 513)].enumerated() {
            let product = Product(transA: index % 2 == 1, transB: index >= 2, m: m, n: n, k: k,
                                  alpha: 1, beta: index == 0 ? 0 : 0.5, padding: 1, bias: true, seed: 99)
            product.check(product.run(kernel), "M \(m) N \(n) K \(k)")
        }
    }

    /// B packed once (ck_sgemm_pack) and multiplied in two column ranges, as
    /// two threads do, over shapes that cross every cache block and tile edge.
    @Test func packedWeightsGiveTheSameProduct() {
        let cases = [(1, 1, 1), (3, 50, 7), (16, 1000, 300), (300, 100, 600), (5, 49, 513), (270, 97, 65)]
        for (index, (m, n, k)) in cases.enumerated() {
            for transB in [false, true] {
                let product = Product(transA: false, transB: transB, m: m, n: n, k: k, alpha: [1, 0.5][index % 2],
                                      beta: [0, 1.5][index % 2], padding: index % 2, seed: UInt64(200 + index))
                let floats = ck_sgemm_packed_floats(k, n)
                #expect(floats >= k * n)
                let packed = UnsafeMutableRawPointer.allocate(byteCount: floats * 4, alignment: 64).bindMemory(to: Float.self, capacity: floats)
                defer { packed.deallocate() }
                product.b.storage.withUnsafeBufferPointer { b in ck_sgemm_pack(transB ? 1 : 0, k, n, b.baseAddress, product.b.stride, packed) }
                var out = product.c.storage
                let step = ck_sgemm_column_step(), middle = min(n, (n / 2 + step - 1) / step * step)
                product.a.storage.withUnsafeBufferPointer { a in
                    out.withUnsafeMutableBufferPointer { c in
                        for (j0, j1) in [(0, middle), (middle, n)] {
                            ck_sgemm_packed(m, n, k, product.alpha, a.baseAddress, product.a.stride, packed, product.beta,
                                            c.baseAddress, product.c.stride, j0, j1)
                        }
                    }
                }
                product.check(out, "packed transB \(transB) M \(m) N \(n) K \(k)")
            }
        }
    }

    @Test(arguments: availableKernels)
    func biasAndActivationsAreFused(kernel: ck_kernel) {
        let activations = [(CK_ACTIVATION_NONE, Float(0), Float(0)), (CK_ACTIVATION_RELU, 0, 0),
                           (CK_ACTIVATION_CLIP, 0, 6), (CK_ACTIVATION_CLIP, -0.5, 0.25)]
        var seed: UInt64 = 1000
        for (activation, low, high) in activations {
            for (m, n, k) in [(1, 40, 33), (9, 1, 20), (5, 30, 40), (33, 70, 300), (64, 49, 27)] {
                for transB in [false, true] {
                    seed += 1
                    var product = Product(transA: false, transB: transB, m: m, n: n, k: k,
                                          beta: seed % 2 == 0 ? 0 : 1, bias: true, seed: seed)
                    product.activation = activation
                    product.clip = (low, high)
                    product.check(product.run(kernel), "activation \(activation.rawValue) M \(m) N \(n) K \(k)")
                }
            }
        }
    }

    /// A residual matrix (with its own row stride) is added after the bias
    /// and before the activation, once, also when K spans several panels,
    /// on every path: blocked, matrix–vector, few rows times Bᵀ.
    @Test(arguments: availableKernels)
    func residualIsAddedBeforeTheActivation(kernel: ck_kernel) {
        var seed: UInt64 = 2000
        for activation in [CK_ACTIVATION_NONE, CK_ACTIVATION_RELU] {
            for (m, n, k) in [(8, 48, 64), (33, 70, 300), (64, 49, 600), (1, 40, 33), (9, 1, 20), (5, 30, 40)] {
                for transB in [false, true] {
                    seed += 1
                    var product = Product(transA: false, transB: transB, m: m, n: n, k: k,
                                          beta: seed % 3 == 0 ? 0.5 : 0, padding: Int(seed % 2), bias: seed % 2 == 0, seed: seed)
                    var numbers = Numbers(state: seed)
                    product.residual = Matrix(rows: m, columns: n, padding: 5, numbers: &numbers)
                    product.activation = activation
                    product.check(product.run(kernel), "residual, activation \(activation.rawValue) M \(m) N \(n) K \(k) transB \(transB)")
                }
            }
        }
    }

    @Test(arguments: availableKernels)
    func zeroDepthOrAlphaOnlyScalesC(kernel: ck_kernel) {
        for (k, alpha) in [(0, Float(1)), (5, 0)] {
            var product = Product(transA: false, transB: false, m: 3, n: 4, k: k, alpha: alpha, beta: 2,
                                  bias: true, seed: 5)
            // A and B must not be read: poison them.
            for i in product.a.storage.indices { product.a.storage[i] = .nan }
            for i in product.b.storage.indices { product.b.storage[i] = .nan }
            product.activation = CK_ACTIVATION_RELU
            let out = product.run(kernel)
            for i in 0..<3 {
                for j in 0..<4 {
                    let c = product.c[i, j]
                    #expect(out[i * product.c.stride + j] == max(2 * c + product.bias![i], 0))
                }
            }
        }
    }

    @Test(arguments: availableKernels)
    func nanPassesThroughActivations(kernel: ck_kernel) {
        for activation in [CK_ACTIVATION_RELU, CK_ACTIVATION_CLIP] {
            var product = Product(transA: false, transB: false, m: 20, n: 50, k: 10, seed: 7)
            product.a.storage[3 * product.a.stride + 2] = .nan   // poisons row 3 of C
            product.activation = activation
            product.clip = (0, 6)
            let out = product.run(kernel)
            for j in 0..<50 { #expect(out[3 * product.c.stride + j].isNaN) }
            #expect(out[4 * product.c.stride].isFinite)
        }
    }

    /// The split the engine uses across threads: ranges of C's columns or
    /// rows, computed separately and concurrently, give the whole product.
    @Test func rowAndColumnRangesComputedConcurrentlyMakeTheWhole() {
        let (m, n, k) = (70, 500, 150)
        let product = Product(transA: false, transB: false, m: m, n: n, k: k, seed: 11)
        let whole = product.run(ck_kernel_selected())
        let step = ck_sgemm_column_step(), rowStep = ck_sgemm_row_step()
        #expect(step > 0 && rowStep > 0)
        for byColumns in [true, false] {
            var parts = [Float](repeating: .nan, count: whole.count)
            let pieces = 4
            parts.withUnsafeMutableBufferPointer { out in
                nonisolated(unsafe) let c = out.baseAddress!
                product.a.storage.withUnsafeBufferPointer { a in
                    product.b.storage.withUnsafeBufferPointer { b in
                        nonisolated(unsafe) let (a, b) = (a.baseAddress!, b.baseAddress!)
                        DispatchQueue.concurrentPerform(iterations: pieces) { piece in
                            let length = byColumns ? n : m, granule = byColumns ? step : rowStep
                            let chunk = (length / pieces + granule - 1) / granule * granule
                            let start = min(piece * chunk, length), end = min(start + chunk, length)
                            guard start < end else { return }
                            if byColumns {
                                ck_sgemm(0, 0, m, end - start, k, 1, a, product.a.stride, b + start, product.b.stride,
                                         0, c + start, product.c.stride)
                            } else {
                                ck_sgemm(0, 0, end - start, n, k, 1, a + start * product.a.stride, product.a.stride,
                                         b, product.b.stride, 0, c + start * product.c.stride, product.c.stride)
                            }
                        }
                    }
                }
            }
            for i in 0..<m {
                for j in 0..<n where parts[i * product.c.stride + j] != whole[i * product.c.stride + j] {
                    Issue.record("split by \(byColumns ? "columns" : "rows"): C[\(i), \(j)] differs")
                    return
                }
            }
        }
    }

    /// The dispatcher picks the best variant the CPU has (Linux: checked
    /// against /proc/cpuinfo), unless MODELINFO_KERNELS names another.
    @Test func selectsTheBestAvailableVariant() throws {
        #expect(ck_kernel_available(CK_KERNEL_PORTABLE) != 0)
        let selected = ck_kernel_selected()
        #expect(ck_kernel_available(selected) != 0)
        #expect(String(cString: ck_kernel_name()) == selected.testDescription)
        if let wanted = ProcessInfo.processInfo.environment["MODELINFO_KERNELS"],
           let kernel = availableKernels.first(where: { $0.testDescription == wanted }) {
            #expect(selected == kernel)
            return
        }
        #expect(selected == availableKernels.last)
        #if arch(x86_64) && os(Linux)
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flags = Set(cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }?
            .split(separator: " ").map(String.init) ?? [])
        let avx512 = ["avx512f", "avx512bw", "avx512vl", "fma"].allSatisfy(flags.contains)
        let avx2 = ["avx2", "fma"].allSatisfy(flags.contains)
        #expect((ck_kernel_available(CK_KERNEL_AVX512) != 0) == avx512)
        #expect((ck_kernel_available(CK_KERNEL_AVX2) != 0) == avx2)
        #endif
    }
}
