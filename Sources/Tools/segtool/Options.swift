import ArgumentParser

/// Where the metadata comes from: the object's trailer, or a `block-metas.json` export
/// (needed for era-A objects, which have no trailer).
struct MetadataOptions: ParsableArguments {
    @Option(name: .long, help: "Metadata from a block-metas.json export instead of the object's trailer.")
    var meta: String?
}
