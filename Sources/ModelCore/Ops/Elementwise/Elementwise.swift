/// Elementwise operators: unary math and activations, broadcasting binary
/// arithmetic and comparisons, variadic reductions over inputs, `Where`,
/// `Cast`, softmax-like row operators and the inference no-ops.
///
/// Counting rule (docs/COUNTING.md): one FLOP per arithmetic operation and
/// one per transcendental function (exp, log, tanh, erf, …) on each output
/// element; comparisons count one, logical and bitwise operations and pure
/// copies count zero.
public enum Elementwise {
    /// FLOPs per element of each unary operator.
    static let unaryFLOPs: [String: Int] = [
        "Abs": 1, "Neg": 1, "Exp": 1, "Log": 1, "Sqrt": 1, "Reciprocal": 1, "Floor": 1, "Ceil": 1, "Round": 1,
        "Sign": 1, "Sin": 1, "Cos": 1, "Tan": 1, "Asin": 1, "Acos": 1, "Atan": 1, "Sinh": 1, "Cosh": 1,
        "Asinh": 1, "Acosh": 1, "Atanh": 1, "Erf": 1, "IsNaN": 1, "IsInf": 1,
        "Relu": 1,                // max(x, 0)
        "LeakyRelu": 2,           // compare, multiply
        "ThresholdedRelu": 1,     // compare
        "Sigmoid": 4,             // negate, exp, add, divide
        "HardSigmoid": 4,         // multiply, add, clamp (2)
        "HardSwish": 5,           // hard sigmoid (4), multiply
        "Tanh": 1,
        "Softplus": 3,            // exp, add, log
        "Softsign": 3,            // abs, add, divide
        "Elu": 4,                 // compare, exp, subtract, multiply
        "Selu": 5,                // Elu (4), scale
        "Celu": 5,                // max/min, divide, exp, subtract, multiply
        "Gelu": 5,                // divide by √2, erf, add, multiply, multiply (tanh form: same count)
        "Mish": 5,                // exp, add, log, tanh, multiply
        "Swish": 5,               // sigmoid (4), multiply
        "Shrink": 2,              // compare, add/subtract
        "Clip": 2,                // max, min
        "Not": 0, "BitwiseNot": 0,
        "Identity": 0, "Dropout": 0,
    ]

    static let binaryFLOPs: [String: Int] = [
        "Add": 1, "Sub": 1, "Mul": 1, "Div": 1, "Pow": 1, "Mod": 1, "PRelu": 2,
        "Equal": 1, "Less": 1, "Greater": 1, "LessOrEqual": 1, "GreaterOrEqual": 1,
        "And": 0, "Or": 0, "Xor": 0, "BitShift": 0, "BitwiseAnd": 0, "BitwiseOr": 0, "BitwiseXor": 0,
        "SwiGLU": 7,              // swish of the gate (scale, sigmoid 4, multiply), times the value
    ]

}
