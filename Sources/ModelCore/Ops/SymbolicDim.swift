/// Integer arithmetic on dimensions that may be symbolic.
///
/// A symbolic dimension is a monomial: an integer coefficient times a product
/// of named symbols, written `N`, `2*N` or `N*seq`. That covers what shape
/// arithmetic in exported graphs does with a dynamic batch or sequence length
/// (multiply, divide exactly, flatten); anything else becomes `.unknown`.
struct Monomial: Equatable {
    var coefficient: Int
    /// Symbol names, sorted, repeated for powers.
    var symbols: [String]

    init(coefficient: Int, symbols: [String]) {
        self.coefficient = coefficient
        self.symbols = symbols.sorted()
    }

    init?(_ dim: Dim) {
        switch dim {
        case .known(let v): self.init(coefficient: v, symbols: [])
        case .unknown: return nil
        case .symbol(let text):
            var coefficient = 1
            var symbols: [String] = []
            for part in text.split(separator: "*", omittingEmptySubsequences: false) {
                if let number = Int(part) {
                    let (product, overflow) = coefficient.multipliedReportingOverflow(by: number)
                    if overflow { return nil }
                    coefficient = product
                } else if part.isEmpty {
                    return nil
                } else {
                    symbols.append(String(part))
                }
            }
            self.init(coefficient: coefficient, symbols: symbols)
        }
    }

    var dim: Dim {
        if symbols.isEmpty { return .known(coefficient) }
        if coefficient == 0 { return .known(0) }
        let names = symbols.joined(separator: "*")
        return .symbol(coefficient == 1 ? names : "\(coefficient)*\(names)")
    }
}

extension Dim {
    /// The product; symbolic when either side is, `.unknown` when either is unknown or it overflows.
    public static func * (a: Dim, b: Dim) -> Dim {
        guard let x = Monomial(a), let y = Monomial(b) else { return .unknown }
        let (product, overflow) = x.coefficient.multipliedReportingOverflow(by: y.coefficient)
        if overflow { return .unknown }
        return Monomial(coefficient: product, symbols: x.symbols + y.symbols).dim
    }

    /// The sum; only like terms (`N + N = 2*N`) stay symbolic.
    public static func + (a: Dim, b: Dim) -> Dim {
        guard let x = Monomial(a), let y = Monomial(b) else { return .unknown }
        if x.coefficient == 0 { return b }
        if y.coefficient == 0 { return a }
        guard x.symbols == y.symbols else { return .unknown }
        let (sum, overflow) = x.coefficient.addingReportingOverflow(y.coefficient)
        if overflow { return .unknown }
        return Monomial(coefficient: sum, symbols: x.symbols).dim
    }

    public static func - (a: Dim, b: Dim) -> Dim {
        a + b * .known(-1)
    }

    /// The exact quotient (`6*N / 3 = 2*N`, `N*seq / seq = N`), or `.unknown`
    /// when it is not a whole monomial.
    public func dividedExactly(by divisor: Dim) -> Dim {
        guard let x = Monomial(self), let y = Monomial(divisor), y.coefficient != 0 else { return .unknown }
        guard x.coefficient % y.coefficient == 0 else { return .unknown }
        var remaining = x.symbols
        for symbol in y.symbols {
            guard let index = remaining.firstIndex(of: symbol) else { return .unknown }
            remaining.remove(at: index)
        }
        return Monomial(coefficient: x.coefficient / y.coefficient, symbols: remaining).dim
    }

    /// Floor division for known numbers (as ONNX's integer `Div` does); symbolic only when exact.
    public func flooredDivision(by divisor: Dim) -> Dim {
        if let a = value, let b = divisor.value {
            guard b != 0 else { return .unknown }
            let q = a / b
            return .known((a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q)
        }
        return dividedExactly(by: divisor)
    }

    /// The product of `dims` (1 for none).
    public static func product<S: Sequence>(_ dims: S) -> Dim where S.Element == Dim {
        dims.reduce(.known(1), *)
    }
}

extension Dim {
    /// The dimension with named symbols replaced by numbers (`2*N` with N = 4 is 8).
    public func substituting(_ values: [String: Int]) -> Dim {
        guard case .symbol = self, let monomial = Monomial(self) else { return self }
        var result = Dim.known(monomial.coefficient)
        for symbol in monomial.symbols {
            result = result * (values[symbol].map(Dim.known) ?? .symbol(symbol))
        }
        return result
    }
}
