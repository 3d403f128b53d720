import Testing
import TestSupport

/// Expects `text` to equal the committed snapshot `name`; `MODELINFO_RECORD=1` rewrites it.
func assertSnapshot(_ text: String, named name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    #expect(try Snapshot.matches(text, named: name), "output differs from \(name); rerun with MODELINFO_RECORD=1 to accept",
            sourceLocation: sourceLocation)
}
