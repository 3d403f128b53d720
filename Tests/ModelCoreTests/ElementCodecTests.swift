import ModelCore
import Testing

/// bfloat16 rounding and the small-float decoders at their edges: NaN,
/// infinities, ties, subnormals and the largest values.
@Suite struct ElementCodecTests {
    func bfloat16(_ bits: UInt32) -> UInt16 { ElementCodec.bfloat16Bits(Float(bitPattern: bits)) }

    @Test func bfloat16RoundsToNearestEven() {
        #expect(ElementCodec.bfloat16Bits(1) == 0x3F80)
        #expect(ElementCodec.bfloat16Bits(-2) == 0xC000)
        // Exactly halfway: to the even neighbour, down from 0x3F80 and up from 0x3F81.
        #expect(bfloat16(0x3F80_8000) == 0x3F80)
        #expect(bfloat16(0x3F81_8000) == 0x3F82)
        #expect(bfloat16(0xBF81_8000) == 0xBF82)
        // Just off halfway: to the nearer one.
        #expect(bfloat16(0x3F80_8001) == 0x3F81)
        #expect(bfloat16(0x3F81_7FFF) == 0x3F81)
        // A carry out of the mantissa moves the exponent.
        #expect(bfloat16(0x3FFF_C000) == 0x4000)
    }

    @Test func bfloat16KeepsZerosInfinitiesAndSubnormals() {
        #expect(ElementCodec.bfloat16Bits(0) == 0x0000)
        #expect(ElementCodec.bfloat16Bits(-0.0) == 0x8000)
        #expect(ElementCodec.bfloat16Bits(.infinity) == 0x7F80)
        #expect(ElementCodec.bfloat16Bits(-.infinity) == 0xFF80)
        // Subnormals round like any other value, ties to even.
        #expect(bfloat16(0x0000_0001) == 0x0000)
        #expect(bfloat16(0x0000_8000) == 0x0000)
        #expect(bfloat16(0x0001_8000) == 0x0002)
        #expect(bfloat16(0x8001_0000) == 0x8001)
        // The largest float32 is past bfloat16's largest plus half a step: infinity.
        #expect(ElementCodec.bfloat16Bits(.greatestFiniteMagnitude) == 0x7F80)
        // bfloat16's own largest is exact, and so is anything short of the halfway point above it.
        #expect(bfloat16(0x7F7F_0000) == 0x7F7F)
        #expect(bfloat16(0x7F7F_7FFF) == 0x7F7F)
        #expect(bfloat16(0x7F7F_8000) == 0x7F80)
    }

    @Test func bfloat16NaNStaysQuietNaN() {
        // A payload only in the dropped bits would round to infinity; all ones would carry to zero.
        for pattern: UInt32 in [0x7F80_0001, 0x7FC0_0000, 0x7FFF_FFFF, 0xFF80_0001, 0xFFC0_0000] {
            let bits = bfloat16(pattern)
            #expect(ElementCodec.float(bfloat16Bits: bits).isNaN, "\(pattern)")
            #expect(bits & 0x0040 != 0, "quiet bit for \(pattern)")
            #expect(bits & 0x8000 == UInt16(pattern >> 16) & 0x8000, "sign for \(pattern)")
        }
    }

    @Test func everyBFloat16RoundTrips() {
        for bits in UInt16.min...UInt16.max {
            let value = ElementCodec.float(bfloat16Bits: bits)
            if value.isNaN {
                #expect(ElementCodec.bfloat16Bits(value) == bits | 0x0040)
            } else if ElementCodec.bfloat16Bits(value) != bits {
                Issue.record("bfloat16 \(bits) did not round-trip")
            }
        }
    }

    @Test func smallFloatLimitsAndSpecials() {
        typealias F = ElementCodec.SmallFloat
        #expect(F.e4m3fn.value(0x7E) == 448)
        #expect(F.e4m3fn.value(0x7F).isNaN && F.e4m3fn.value(0xFF).isNaN)
        #expect(F.e4m3fn.value(0x01) == 0x1p-9)
        #expect(F.e4m3fn.value(0x80) == 0 && F.e4m3fn.value(0x80).sign == .minus)
        #expect(F.e4m3fnuz.value(0x7F) == 240)
        #expect(F.e4m3fnuz.value(0x80).isNaN)
        #expect(F.e4m3fnuz.value(0x01) == 0x1p-10)
        #expect(F.e5m2.value(0x7B) == 57344)
        #expect(F.e5m2.value(0x7C) == .infinity && F.e5m2.value(0xFC) == -.infinity)
        #expect(F.e5m2.value(0x7D).isNaN)
        #expect(F.e5m2.value(0x01) == 0x1p-16)
        #expect(F.e5m2fnuz.value(0x7F) == 57344)
        #expect(F.e5m2fnuz.value(0x80).isNaN)
        #expect(F.e2m1.value(0x7) == 6 && F.e2m1.value(0xF) == -6 && F.e2m1.value(0x1) == 0.5)
        #expect(F.e2m3.value(0x1F) == 7.5)
        #expect(F.e3m2.value(0x1F) == 28)
        #expect(F.float16.value(0x7BFF) == 65504 && F.float16.value(0x0001) == 0x1p-24)
        #expect(ElementCodec.e8m0Value(0x7F) == 1 && ElementCodec.e8m0Value(0) == 0x1p-127)
        #expect(ElementCodec.e8m0Value(0xFE) == 0x1p127 && ElementCodec.e8m0Value(0xFF).isNaN)
    }

    @Test func float16AgreesWithSwiftFloat16() {
        for bits in UInt16.min...UInt16.max {
            let expected = Double(Float16(bitPattern: bits))
            let value = ElementCodec.SmallFloat.float16.value(UInt64(bits))
            if !(value == expected || value.isNaN && expected.isNaN) { Issue.record("float16 \(bits)") }
        }
    }

    @Test func packedElementsReadLeastSignificantFirst() throws {
        let bytes: [UInt8] = [0b1011_0100, 0b0000_0111, 0b1100_0000]
        bytes.withUnsafeBytes { raw in
            #expect(ElementCodec.bits(raw, index: 0, width: 4) == 0b0100)
            #expect(ElementCodec.bits(raw, index: 1, width: 4) == 0b1011)
            #expect(ElementCodec.bits(raw, index: 3, width: 2) == 0b10)
            // float6: element 1 takes bits 6...11, across the first two bytes.
            #expect(ElementCodec.bits(raw, index: 1, width: 6) == 0b01_1110)
            #expect(ElementCodec.bits(raw, index: 3, width: 6) == 0b11_0000)
        }
        let int4 = try ElementCodec.decoder(for: .int4, tensor: "t")
        #expect(int4(0x8) == -8 && int4(0x7) == 7 && int4(0xF) == -1)
        let int2 = try ElementCodec.decoder(for: .int2, tensor: "t")
        #expect(int2(0b10) == -2 && int2(0b01) == 1)
        #expect(throws: ModelError.self) { try ElementCodec.decoder(for: .complex64, tensor: "t") }
    }
}
