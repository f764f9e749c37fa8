import Benchmark
import BinaryCoding

/// The two shapes every section benchmark takes, so the writers and readers are measured alike.

/// Registers a writer benchmark: one iteration encodes every input in turn into one kept
/// `ByteWriter`, emptied (capacity kept) before each, so only the encoder runs while measured.
/// `inputs` and `capacity` are evaluated in setup, not measured.
func writerBenchmark<Input>(
    _ name: String, _ configuration: Benchmark.Configuration,
    inputs: @escaping () -> [Input], capacity: @escaping () -> Int,
    write: @escaping (Input, inout ByteWriter) -> Void
) {
    Benchmark(name, configuration: configuration,
              closure: { benchmark in
                  let all = inputs()
                  var w = ByteWriter(capacity: capacity())
                  benchmark.startMeasurement()
                  for _ in benchmark.scaledIterations {
                      for input in all {
                          w.bytes.removeAll(keepingCapacity: true)
                          write(input, &w)
                      }
                  }
                  benchmark.stopMeasurement()
                  blackHole(w.count)
              },
              setup: { _ = inputs() })
}

/// Registers a reader benchmark: one iteration decodes every section in turn; `read` returns a
/// count of what it decoded, kept from the optimizer. A section that fails to decode traps.
func readerBenchmark(
    _ name: String, _ configuration: Benchmark.Configuration,
    sections: @escaping () -> [[UInt8]],
    read: @escaping (UnsafeRawBufferPointer) throws(DecodeError) -> Int
) {
    Benchmark(name, configuration: configuration,
              closure: { benchmark in
                  let all = sections()
                  benchmark.startMeasurement()
                  for _ in benchmark.scaledIterations {
                      for bytes in all {
                          bytes.withUnsafeBytes { raw in blackHole(try! read(raw)) }
                      }
                  }
                  benchmark.stopMeasurement()
              },
              setup: { _ = sections() })
}

/// Decodes golden or synthetic sections once, in setup, into the contents a writer takes.
func decodeSections<T>(_ sections: [[UInt8]], _ read: (UnsafeRawBufferPointer) throws(DecodeError) -> T) -> [T] {
    sections.map { bytes in
        try! bytes.withUnsafeBytes { raw throws(DecodeError) in try read(raw) }
    }
}
