import Foundation

/// Committed expected outputs of the command line (`Tests/ModelInfoCLITests/Snapshots`).
public enum Snapshot {
    public static let folder = Fixtures.root.appendingPathComponent("Tests/ModelInfoCLITests/Snapshots")

    /// Whether `text` equals the snapshot `name`. With `MODELINFO_RECORD=1`
    /// in the environment the snapshot is rewritten first; review the diff
    /// before committing it.
    public static func matches(_ text: String, named name: String) throws -> Bool {
        let url = folder.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["MODELINFO_RECORD"] == "1" {
            try Data(text.utf8).write(to: url)
        }
        return text == (try String(contentsOf: url, encoding: .utf8))
    }

    /// `text` with every match of `pattern` replaced by `placeholder`: for
    /// timings, rates and temporary paths, which differ from run to run.
    public static func masking<Output>(_ text: String, _ pattern: Regex<Output>, with placeholder: String) -> String {
        text.replacing(pattern, with: placeholder)
    }
}
