/// The release of this library and of the `modelinfo` command (`modelinfo --version`).
public enum ModelInfoVersion {
    public static let current = "0.6.0"
}
