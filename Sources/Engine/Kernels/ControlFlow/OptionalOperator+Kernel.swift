import ModelCore

/// Optional, OptionalHasElement, OptionalGetElement. Since opset 18 the
/// last two also take a plain tensor or sequence, which counts as present.
struct OptionalKernel: ValueKernel {
    enum Operation {
        case wrap, hasElement, getElement
    }

    let operation: Operation

    init(_ schema: OptionalOperator, _ setup: KernelSetup) throws(ModelError) {
        operation = switch schema.op {
        case "Optional": .wrap
        case "OptionalHasElement": .hasElement
        case "OptionalGetElement": .getElement
        default: throw setup.noKernel
        }
    }

    func run(values inputs: [EngineValue?], _ context: ExecutionContext) throws(ModelError) -> [EngineValue?] {
        let input = optionalValue(inputs, 0)
        switch operation {
        case .wrap:
            return [.optional(input)]
        case .hasElement:
            var present = input != nil
            if case .optional(let content)? = input { present = content != nil }
            return [.tensor(try ElementNumbers.tensor([present ? 1 : 0], dtype: .bool, shape: []))]
        case .getElement:
            switch input {
            case .optional(let content?)?: return [content]
            case .optional(nil)?: throw ModelError(.invalidGraph, "OptionalGetElement of an empty optional")
            case let value?: return [value]
            case nil: throw ModelError(.invalidGraph, "input is missing")
            }
        }
    }
}

extension OptionalOperator: Executable {
    public func makeKernel(_ setup: KernelSetup) throws(ModelError) -> any Kernel { try OptionalKernel(self, setup) }
}
