import Dispatch
import FoundationEssentials
import ModelCore
import Zlib

/// How `SWMWriter` stores float32 weights.
public enum WeightEncoding: String, CaseIterable, Sendable {
    /// Every tensor as it is.
    case f32
    /// float32 tensors of rank ≥ 2 (weight matrices and kernels) as IEEE half floats.
    case f16
    /// float32 tensors of rank ≥ 2 as bfloat16.
    case bf16
    /// float32 Conv, Gemm and MatMul weights (initializers or Constant
    /// nodes) as int8 with per-output-channel scales.
    case int8
}

/// What a write produced.
public struct SWMWriteSummary: Sendable, Equatable {
    public var fileBytes: Int
    public var tensorCount: Int
    /// Tensors per stored encoding.
    public var encodings: [StoredEncoding: Int]
    public var compressedCount: Int
}

/// Writes a `Model` as a `.swm` file (docs/FORMAT.md).
///
/// Raw tensors go from where they live (the mapped source file) straight to
/// the output, while a second thread computes their checksums. The file is
/// written under a temporary name and renamed over `path` only when complete.
public struct SWMWriter: Sendable {
    public var weights: WeightEncoding
    /// Byte-shuffle and deflate each tensor (kept only where it makes the tensor smaller).
    public var compress: Bool
    /// Stored values (initializers, Constant outputs) kept as float32 whatever `weights` says:
    /// the layers a lossy conversion hurts most.
    public var keepFloat32: Set<String>

    public init(weights: WeightEncoding = .f32, compress: Bool = false, keepFloat32: Set<String> = []) {
        self.weights = weights
        self.compress = compress
        self.keepFloat32 = keepFloat32
    }

    /// Writes `model` to `path`. `progress` is called after each tensor with
    /// the tensor bytes done and in total. `provenance` is asked for once the
    /// tensor data is written (its section follows the data), so that a
    /// digest of the source can be computed meanwhile.
    /// - Throws: `ModelError` naming the file, for a write that fails or a
    ///   tensor whose data fails its own check.
    @discardableResult
    public func write(_ model: Model, to path: String, provenance: () -> Provenance,
                      progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws(ModelError) -> SWMWriteSummary {
        let (modelBytes, tensors, valueNames) = try ModelEncoder.encode(model)
        let choices = zip(EncodingChoice.choose(for: tensors, valueNames: valueNames, graph: model.graph, weights: weights), valueNames)
            .map { choice, name in name.map(keepFloat32.contains) == true ? .raw : choice }
        let file = try StagedFile(target: path)
        do {
            let summary = try write(modelBytes: modelBytes, tensors: tensors, choices: choices, provenance: provenance,
                                    to: file, progress: progress)
            try file.finish()
            try file.commit()
            return summary
        } catch {
            file.discard()
            throw error
        }
    }

    private func write(modelBytes: [UInt8], tensors: [Tensor], choices: [EncodingChoice], provenance: () -> Provenance,
                       to file: StagedFile, progress: (Int, Int) -> Void) throws(ModelError) -> SWMWriteSummary {
        var position = 0
        func append(_ bytes: [UInt8]) throws(ModelError) {
            try file.write(bytes)
            position += bytes.count
        }
        func pad(to alignment: Int) throws(ModelError) {
            let padding = (alignment - position % alignment) % alignment
            if padding > 0 { try append([UInt8](repeating: 0, count: padding)) }
        }
        var sections: [SectionEntry] = []
        func section(_ kind: SectionKind, _ bytes: [UInt8], required: Bool) throws(ModelError) {
            try pad(to: Layout.sectionAlignment)
            sections.append(SectionEntry(kind: kind, flags: required ? SectionEntry.requiredFlag : 0,
                                         offset: UInt64(position), length: UInt64(bytes.count), crc: CRC32.of(bytes)))
            try append(bytes)
        }

        try append([UInt8](repeating: 0, count: Layout.headerSize))
        try section(.model, modelBytes, required: true)

        try pad(to: Layout.tensorAlignment)
        let dataStart = position
        let total = tensors.reduce(0) { $0 + $1.byteCount }
        var done = 0
        var entries: [TensorEntry] = []
        entries.reserveCapacity(tensors.count)
        let checksums = RawChecksums(tensors: tensors, choices: choices, compress: compress)
        // Also when a tensor below fails: the other thread reads the model's
        // bytes, and must not go on doing so after this returns.
        defer { checksums.finish() }
        var directEntries: [(entry: Int, tensor: Int)] = []
        for (index, (tensor, choice)) in zip(tensors, choices).enumerated() {
            try pad(to: Layout.tensorAlignment)
            // The model encoder puts only numeric tensors in the table (string tensors stay inline).
            guard let region = tensor.bytes else { preconditionFailure("string tensor '\(tensor.name)' in the tensor table") }
            try tensor.prepareData()
            let offset = position
            let stored: StoredBytes = region.withUnsafeBytes { source in
                StoredBytes.make(source, tensor: tensor, choice: choice, compress: compress)
            }
            let crc: UInt32
            switch stored {
            case .direct:
                try region.withUnsafeBytes { file.write($0) }.get()
                position += region.count
                if compress {
                    // Compression did not pay off for this one, so the other thread skipped it.
                    crc = region.withUnsafeBytes { CRC32.of($0) }
                } else {
                    directEntries.append((entries.count, index))
                    crc = 0                                   // filled in from `checksums` below
                }
            case .encoded(let bytes, _):
                try append(bytes)
                crc = CRC32.of(bytes)
            }
            entries.append(try TensorEntry(name: tensor.name, dtype: tensor.dtype, dims: tensor.dims, docString: tensor.docString,
                                           encoding: choice.encoding, compression: stored.compression, axis: choice.axis,
                                           offset: offset, storedLength: position - offset, crc: crc))
            done += region.count
            progress(done, total)
        }
        for (entry, tensor) in directEntries { entries[entry].crc = checksums.value(at: tensor) }
        try pad(to: Layout.tensorAlignment)
        sections.append(SectionEntry(kind: .data, flags: SectionEntry.requiredFlag, offset: UInt64(dataStart),
                                     length: UInt64(position - dataStart), crc: 0))

        var table = ByteWriter()
        table.count(entries.count)
        for entry in entries { entry.encode(into: &table) }
        try section(.tensors, table.bytes, required: true)
        try section(.provenance, provenance().encoded(), required: false)

        try pad(to: Layout.sectionAlignment)
        let tableOffset = position
        var rows = ByteWriter()
        for entry in sections { entry.encode(into: &rows) }
        try append(rows.bytes)

        let header = Header(fileSize: UInt64(position), tableOffset: UInt64(tableOffset), sectionCount: UInt32(sections.count),
                            tableCRC: CRC32.of(rows.bytes))
        try file.overwrite(header.encoded(), at: 0)

        var counts: [StoredEncoding: Int] = [:]
        for entry in entries { counts[entry.encoding, default: 0] += 1 }
        return SWMWriteSummary(fileBytes: position, tensorCount: entries.count, encodings: counts,
                               compressedCount: entries.filter { $0.compression != .none }.count)
    }
}

/// A tensor's bytes as they go into the file.
private enum StoredBytes {
    /// Unchanged: written straight from the source.
    case direct
    case encoded([UInt8], StoredCompression)

    var compression: StoredCompression {
        if case .encoded(_, let compression) = self { return compression }
        return .none
    }

    static func make(_ source: UnsafeRawBufferPointer, tensor: Tensor, choice: EncodingChoice, compress: Bool) -> StoredBytes {
        if choice.encoding == .raw && !compress { return .direct }
        let encoded = choice.encoding == .raw ? nil : TensorCodec.encode(source, as: choice.encoding, dims: tensor.dims, axis: choice.axis)
        if compress {
            let unit: Int
            switch choice.encoding {
            case .raw: unit = max(1, (tensor.dtype.bitsPerElement ?? 8) / 8)
            case .float16, .bfloat16: unit = 2
            case .int8: unit = 1
            }
            let packed: [UInt8]? = encoded.map { bytes in
                bytes.withUnsafeBytes { TensorCodec.compress($0, unit: unit, floatingPoint: tensor.dtype.isFloatingPoint) }
            } ?? TensorCodec.compress(source, unit: unit, floatingPoint: tensor.dtype.isFloatingPoint)
            if let packed { return .encoded(packed, .shuffleDeflate) }
        }
        if let encoded { return .encoded(encoded, .none) }
        return .direct
    }
}

/// The CRC-32s of the tensors written unchanged, computed on another thread
/// while the writing thread copies them into the file.
private final class RawChecksums: @unchecked Sendable {
    private var values: [UInt32]
    private let group = DispatchGroup()
    private var finished = false

    init(tensors: [Tensor], choices: [EncodingChoice], compress: Bool) {
        values = [UInt32](repeating: 0, count: tensors.count)
        let direct = zip(tensors, choices).enumerated().compactMap { index, pair -> (Int, ByteRegion)? in
            guard pair.1.encoding == .raw, !compress, let region = pair.0.bytes else { return nil }
            return (index, region)
        }
        DispatchQueue.global().async(group: group) { [self] in
            for (index, region) in direct { values[index] = region.withUnsafeBytes { CRC32.of($0) } }
        }
    }

    /// Waits for the other thread to finish.
    func finish() {
        if !finished {
            group.wait()
            finished = true
        }
    }

    /// The checksum of tensor `index`, once the other thread has finished.
    func value(at index: Int) -> UInt32 {
        finish()
        return values[index]
    }
}
