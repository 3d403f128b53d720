import FuzzSupport
import ModelInfo

// TensorFile tells the formats apart by extension, as the commands do; the
// fuzz input's first bytes choose it so one corpus holds all three.
let npy = InputFile(extension: "npy"), npz = InputFile(extension: "npz"), pb = InputFile(extension: "pb")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTensors(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let bytes = fuzzInput(data, count)
    let file = bytes.starts(with: [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]) ? npy : bytes.starts(with: [0x50, 0x4B]) ? npz : pb
    file.write(bytes)
    guard let tensors = try? TensorFile.read(path: file.path) else { return 0 }
    for tensor in tensors { _ = try? tensor.doubleValues() }
    return 0
}
