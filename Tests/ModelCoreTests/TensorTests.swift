import ModelCore
import Testing

@Suite struct TensorTests {
    func tensor(_ dtype: DType, _ dims: [Int], _ bytes: [UInt8]) throws -> Tensor {
        try Tensor(name: "t", dtype: dtype, dims: dims, storage: .bytes(ByteRegion(copying: bytes)))
    }

    @Test func rejectsDimsWhoseProductOverflows() {
        #expect(throws: ModelError.self) { try tensor(.float, [1 << 32, 1 << 32, 16], []) }
        #expect(throws: ModelError.self) { try tensor(.float, [-1], []) }
    }

    @Test func rejectsDataOfTheWrongSize() {
        #expect(throws: ModelError.self) { try tensor(.float, [2], [0, 0, 0]) }
        #expect(throws: ModelError.self) { try tensor(.int4, [3], [0]) }
    }

    @Test func subByteTypesArePackedLSBFirst() throws {
        // int4 [-8, 7, -1]: low nibble first.
        #expect(try tensor(.int4, [3], [0x78, 0x0F]).doubleValues() == [-8, 7, -1])
        // uint2 [0, 1, 2, 3, 3]: four per byte.
        #expect(try tensor(.uint2, [5], [0b11_10_01_00, 0b11]).doubleValues() == [0, 1, 2, 3, 3])
    }

    @Test func halfAndBrainFloats() throws {
        // float16 1.0 = 0x3C00, -2.0 = 0xC000, +inf = 0x7C00; bfloat16 1.0 = 0x3F80.
        #expect(try tensor(.float16, [3], [0x00, 0x3C, 0x00, 0xC0, 0x00, 0x7C]).doubleValues() == [1, -2, .infinity])
        #expect(try tensor(.bfloat16, [1], [0x80, 0x3F]).doubleValues() == [1])
    }

    @Test func float8Conventions() throws {
        // e4m3fn: 0x7E is the largest finite value (448), 0x7F is NaN.
        let e4m3 = try tensor(.float8e4m3fn, [2], [0x7E, 0x7F]).doubleValues()
        #expect(e4m3[0] == 448 && e4m3[1].isNaN)
        // fnuz variants: 0x80 (negative zero's code) is NaN.
        #expect(try tensor(.float8e5m2fnuz, [1], [0x80]).doubleValues()[0].isNaN)
        // e5m2 is IEEE-like: 0x7C is +inf.
        #expect(try tensor(.float8e5m2, [1], [0x7C]).doubleValues() == [.infinity])
    }

    @Test func stringTensorsHoldOneValuePerElement() throws {
        let t = try Tensor(name: "s", dtype: .string, dims: [2], storage: .strings([Array("a".utf8), []]))
        #expect(try t.stringValues().count == 2)
        #expect(throws: ModelError.self) { try t.doubleValues() }
        #expect(throws: ModelError.self) { try Tensor(name: "s", dtype: .string, dims: [3], storage: .strings([[]])) }
    }

    @Test func unknownDTypeIsNamedByNumber() {
        #expect(DType(rawValue: 99).name == "dtype(99)")
        #expect(!DType(rawValue: 99).isKnown)
    }

    @Test func shapeDescriptionKeepsSymbols() {
        #expect(Shape([.symbol("N"), .known(3), .known(224), .known(224)]).description == "N×3×224×224")
        #expect(Shape([Int]()).description == "scalar")
        #expect(Shape.product([1 << 40, 1 << 40]) == nil)
    }
}
