import FuzzSupport

let input = InputFile(extension: "swm")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSWM(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    input.write(fuzzInput(data, count))
    checkSWM(input)
    return 0
}
