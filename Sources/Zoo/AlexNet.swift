import ModelCore

/// AlexNet as torchvision defines it: the single-tower variant of
/// Krizhevsky's "One weird trick" paper (64/192/384/256/256 filters).
enum AlexNet {
    /// The layers from `input` to the class logits.
    static func logits(_ b: GraphBuilder, _ input: Activation, classes: Int) throws(ModelError) -> Activation {
        let features = Scope.root.child("features")
        var x = input
        x = try b.conv(x, features.child(node: "conv1", parameter: "0"), out: 64, kernel: 11, stride: 4, padding: 2, bias: true)
        x = b.relu(x, features.child("relu1"))
        x = try b.maxPool(x, features.child("pool1"), kernel: 3, stride: 2)
        x = try b.conv(x, features.child(node: "conv2", parameter: "3"), out: 192, kernel: 5, padding: 2, bias: true)
        x = b.relu(x, features.child("relu2"))
        x = try b.maxPool(x, features.child("pool2"), kernel: 3, stride: 2)
        x = try b.conv(x, features.child(node: "conv3", parameter: "6"), out: 384, kernel: 3, padding: 1, bias: true)
        x = b.relu(x, features.child("relu3"))
        x = try b.conv(x, features.child(node: "conv4", parameter: "8"), out: 256, kernel: 3, padding: 1, bias: true)
        x = b.relu(x, features.child("relu4"))
        x = try b.conv(x, features.child(node: "conv5", parameter: "10"), out: 256, kernel: 3, padding: 1, bias: true)
        x = b.relu(x, features.child("relu5"))
        x = try b.maxPool(x, features.child("pool5"), kernel: 3, stride: 2)

        x = try b.adaptiveAveragePool(x, Scope.root.child("avgpool"), size: 6)
        x = b.flatten(x, Scope.root.child("flatten"))

        // Dropout (classifier.0 and .3) does nothing at inference and is left out.
        let classifier = Scope.root.child("classifier")
        x = try b.linear(x, classifier.child(node: "fc1", parameter: "1"), out: 4096)
        x = b.relu(x, classifier.child("relu1"))
        x = try b.linear(x, classifier.child(node: "fc2", parameter: "4"), out: 4096)
        x = b.relu(x, classifier.child("relu2"))
        return try b.linear(x, classifier.child(node: "fc3", parameter: "6"), out: classes, output: GraphBuilder.outputName)
    }
}
