import Foundation
import ModelInfo
import Testing

/// How an output compares with its reference when it is a sequence or an optional.
@Suite struct OutputComparisonTests {
    private func tensor(_ values: [Float]) throws -> StoredValue {
        let bytes = values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
        return .tensor(try Tensor(name: "", dtype: .float, dims: [values.count], storage: .bytes(ByteRegion(copying: bytes))))
    }

    private func compare(_ actual: StoredValue, _ expected: StoredValue) -> OutputComparison {
        OutputComparison(name: "y", actual: actual, expected: expected, atol: 1e-4, rtol: 0)
    }

    @Test func aSequenceCountsAsOneOutputOverItsElements() throws {
        let expected = StoredValue.sequence([try tensor([1, 2]), try tensor([3, 4, 5])])
        let same = compare(.sequence([try tensor([1, 2]), try tensor([3, 4, 5])]), expected)
        #expect(same.passed && same.elements == 5 && same.cosineSimilarity == 1)
        // One wrong element in the second tensor: index 3 of the elements laid end to end.
        let off = compare(.sequence([try tensor([1, 2]), try tensor([3, 4.5, 5])]), expected)
        #expect(!off.passed && off.mismatches == 1 && off.firstMismatch == 3 && off.maxAbsoluteError == 0.5)
        let short = compare(.sequence([try tensor([1, 2])]), expected)
        #expect(short.problem == "a sequence of 1 elements differs from the reference's 2")
        let shape = compare(.sequence([try tensor([1, 2]), try tensor([3, 4])]), expected)
        #expect(shape.problem == "element 1: shape [2] differs from the reference [3]")
    }

    @Test func anOptionalComparesWhatItHolds() throws {
        #expect(compare(.optional(nil), .optional(nil)).passed)
        #expect(compare(.optional(try tensor([1])), .optional(try tensor([1]))).passed)
        #expect(compare(.optional(nil), .optional(try tensor([1]))).problem == "an empty optional, the reference holds a value")
        #expect(compare(try tensor([1]), .sequence([])).problem == "a tensor where the reference is a sequence")
    }
}
