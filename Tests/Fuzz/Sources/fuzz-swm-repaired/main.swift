import FuzzSupport

let input = InputFile(extension: "swm")

/// Most mutations of a `.swm` file break a checksum and stop at it. This
/// target first sets the header's file size and recomputes every CRC (the
/// header's, the section table's, each section's and each tensor's), so the
/// mutated bytes reach the decoders behind them.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRepairedSWM(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    var bytes = Array(fuzzInput(data, count))
    SWMRepair.repair(&bytes)
    bytes.withUnsafeBytes { input.write($0) }
    checkSWM(input)
    return 0
}
