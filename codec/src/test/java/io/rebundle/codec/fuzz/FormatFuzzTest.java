package io.rebundle.codec.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.rebundle.codec.MalformedBytesException;
import io.rebundle.codec.RebundleException;
import io.rebundle.codec.bundle.BundleEntry;
import io.rebundle.codec.bundle.BundleHeader;
import io.rebundle.codec.bundle.CheckpointReader;
import io.rebundle.codec.bundle.CheckpointState;
import io.rebundle.codec.bundle.CheckpointVerifier;
import io.rebundle.codec.bundle.DType;
import io.rebundle.codec.bundle.IndexRecord;
import io.rebundle.codec.bundle.Naming;
import io.rebundle.codec.bundle.SliceKeys;
import io.rebundle.codec.bundle.TensorChecksum;
import io.rebundle.codec.graph.ObjectGraph;
import io.rebundle.codec.io.FileIO;
import io.rebundle.codec.io.LocalFileIO;
import io.rebundle.codec.io.RangeReader;
import io.rebundle.codec.proto.BundleEntryProto;
import io.rebundle.codec.proto.TensorShapeProto;
import io.rebundle.codec.table.Block;
import io.rebundle.codec.table.BlockBuilder;
import io.rebundle.codec.table.BlockHandle;
import io.rebundle.codec.table.Footer;
import io.rebundle.codec.table.Snappy;
import io.rebundle.codec.table.TableReader;
import io.rebundle.codec.util.Crc32c;
import io.rebundle.codec.util.Varints;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Coverage-guided fuzz targets for every parser of untrusted checkpoint bytes (README
 * "Reliability"). The property is the same everywhere: an input parses, or fails with a {@link
 * RebundleException} (corrupt, unsupported, not found); parsers that work on a bare buffer may also
 * raise the {@link MalformedBytesException} signal their boundary converts. Anything else (an index
 * out of bounds, a null pointer, an out-of-memory error) is a finding.
 *
 * <p>{@code mvn verify} replays the committed inputs under {@code FormatFuzzTestInputs/} and fuzzes
 * each target for a few seconds in its own JVM (see codec/pom.xml); the README gives the command
 * that fuzzes one target for as long as you like.
 */
class FormatFuzzTest {
  /**
   * How long a fuzzing run of one target lasts when JAZZER_FUZZ is set: the build fuzzes four
   * targets (codec/pom.xml), about 25 s in all; README "Reliability" shows how to fuzz longer.
   */
  static final String CI_DURATION = "5s";

  static final String LONG_CI_DURATION = "10s";

  private static final Path DIR = tempDir();
  private static final FileIO IO = new LocalFileIO();

  private static Path tempDir() {
    try {
      Path d = Files.createTempDirectory("rebundle-fuzz");
      d.toFile().deleteOnExit();
      return d;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** One decoded block: every entry, and a seek, with no checksum in the way. */
  @FuzzTest(maxDuration = CI_DURATION)
  void block(byte[] data) {
    try {
      Block block = new Block(data, "fuzz.index", 0);
      Block.Iterator it = block.iterator();
      int n = 0;
      while (it.next() && n++ < 100_000) {
        it.key();
        it.value();
      }
      it = block.iterator();
      it.seek(data.length > 3 ? java.util.Arrays.copyOf(data, 3) : data);
      it.next();
    } catch (RebundleException expected) {
      // Corrupt: the property holds.
    }
  }

  /** A whole table file: footer, handles, block bounds, checksums, compression. */
  @FuzzTest(maxDuration = CI_DURATION)
  void table(byte[] file) {
    try {
      TableReader t = new TableReader(memory(file));
      TableReader.EntryIterator it = t.iterator();
      while (it.next()) {
        t.get(it.key());
      }
    } catch (RebundleException expected) {
      // Corrupt.
    }
  }

  /** The bundle header and one bundle entry, as the index stores them. */
  @FuzzTest(maxDuration = CI_DURATION)
  void headerAndEntry(byte[] value) {
    try {
      BundleHeader.decode(value, "fuzz.index");
    } catch (RebundleException expected) {
      // Corrupt or unsupported.
    }
    try {
      BundleEntry e = BundleEntry.decode(value, "fuzz.index", "k");
      e.dtypeName();
      e.shape().numElements();
    } catch (RebundleException expected) {
      // Corrupt.
    }
  }

  /** Slice keys: TensorFlow's ordered code. */
  @FuzzTest(maxDuration = CI_DURATION)
  void sliceKey(byte[] key) {
    try {
      SliceKeys.Decoded d = SliceKeys.decode(key);
      SliceKeys.decode(SliceKeys.encode(d.name(), d.slice()));
    } catch (MalformedBytesException expected) {
      // The parser's signal: CheckpointReader turns it into a corruption.
    }
  }

  /** The object graph: parse, object paths, re-encode. */
  @FuzzTest(maxDuration = CI_DURATION)
  void objectGraph(byte[] bytes) {
    try {
      ObjectGraph g = ObjectGraph.parse(bytes, "fuzz");
      g.objectPaths();
      ObjectGraph.parse(g.encode(), "fuzz");
    } catch (RebundleException expected) {
      // Corrupt or unsupported.
    }
  }

  /** String and variant element framing, checked against the entry size as it streams by. */
  @FuzzTest(maxDuration = CI_DURATION)
  void stringsAndVariants(FuzzedDataProvider in) {
    DType dtype = in.consumeBoolean() ? DType.STRING : DType.VARIANT;
    long elements = in.consumeLong(0, 64);
    byte[] data = in.consumeRemainingAsBytes();
    TensorChecksum crc = TensorChecksum.of(dtype, elements, false, data.length);
    try {
      int chunk = Math.max(1, data.length / 3);
      for (int at = 0; at < data.length; at += chunk) {
        crc.update(data, at, Math.min(chunk, data.length - at));
      }
      crc.problem();
      crc.value();
    } catch (MalformedBytesException expected) {
      // The signal CheckpointReader converts.
    }
  }

  /** Snappy-compressed block contents. */
  @FuzzTest(maxDuration = CI_DURATION)
  void snappy(byte[] input) {
    try {
      Snappy.uncompress(input, 0, input.length);
    } catch (MalformedBytesException expected) {
      // The signal TableReader converts.
    }
  }

  /** The {@code checkpoint} state file of a model directory. */
  @FuzzTest(maxDuration = CI_DURATION)
  void stateFile(byte[] text) throws IOException {
    Path file = DIR.resolve(Naming.STATE_FILE);
    Files.write(file, text);
    try {
      CheckpointState s = CheckpointState.read(IO, file.toString());
      s.toText();
    } catch (RebundleException expected) {
      // Corrupt.
    }
  }

  /**
   * A whole checkpoint whose index blocks carry valid checksums, so that mutations reach the
   * structure behind them: entries in any order, any header, any entry fields, any data bytes.
   * Every command's path runs over it: listing, reading each tensor, the object graph, and verify.
   */
  @FuzzTest(maxDuration = LONG_CI_DURATION)
  void checkpoint(FuzzedDataProvider in) throws IOException {
    int numShards = in.consumeBoolean() ? in.consumeInt(0, 3) : in.consumeInt();
    BlockBuilder block = new BlockBuilder(in.consumeInt(1, 16));
    block.add(new byte[0], BundleHeader.of(Math.max(0, numShards)).encode());
    int entries = in.consumeInt(0, 6);
    for (int i = 0; i < entries; i++) {
      byte[] key =
          in.consumeBoolean()
              ? in.consumeAsciiString(12).getBytes(java.nio.charset.StandardCharsets.UTF_8)
              : in.consumeBytes(16);
      byte[] value = in.consumeBoolean() ? in.consumeBytes(32) : entry(in);
      block.add(key, value);
    }
    byte[] index = validTable(block.finish());
    String prefix = DIR.resolve("ckpt").toString();
    Files.write(Path.of(Naming.indexFile(prefix)), index);
    Files.write(
        Path.of(Naming.dataFile(prefix, 0, Math.max(1, numShards))), in.consumeRemainingAsBytes());
    try (CheckpointReader r = CheckpointReader.openPrefix(IO, prefix)) {
      for (IndexRecord rec : r.records()) {
        if (!rec.isSliceEntry()) {
          try {
            r.read(rec.name(), rec.entry());
          } catch (RebundleException expected) {
            // One unreadable tensor: the listing goes on, as inspect --values does.
          }
        }
      }
      r.objectGraph();
    } catch (RebundleException expected) {
      // Corrupt or unsupported.
    }
    CheckpointVerifier.verify(IO, prefix, null);
    try (java.util.stream.Stream<Path> files = Files.list(DIR)) {
      for (Path p : files.toList()) {
        if (p.getFileName().toString().startsWith("ckpt.data-")) {
          Files.delete(p);
        }
      }
    }
  }

  /**
   * A bundle entry from fuzzer-chosen fields, so that most inputs parse and reach the checks
   * behind.
   */
  private static byte[] entry(FuzzedDataProvider in) {
    BundleEntryProto.Builder b = BundleEntryProto.newBuilder().setDtype(in.consumeInt(0, 30));
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    int rank = in.consumeInt(0, 3);
    for (int d = 0; d < rank; d++) {
      shape.addDim(
          TensorShapeProto.Dim.newBuilder()
              .setSize(in.consumeBoolean() ? in.consumeLong(0, 8) : in.consumeLong()));
    }
    b.setShape(shape)
        .setShardId(in.consumeInt(0, 2))
        .setOffset(in.consumeLong(0, 64))
        .setSize(in.consumeBoolean() ? in.consumeLong(0, 64) : in.consumeLong())
        .setCrc32C(in.consumeInt());
    return b.build().toByteArray();
  }

  /** A table of one data block with valid checksums: data, empty metaindex, index, footer. */
  static byte[] validTable(byte[] dataBlock) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BlockHandle data = stored(out, dataBlock);
    BlockHandle meta = stored(out, new BlockBuilder(16).finish());
    BlockBuilder index = new BlockBuilder(1);
    index.add(new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF}, data.encode());
    BlockHandle idx = stored(out, index.finish());
    out.writeBytes(new Footer(meta, idx).encode());
    return out.toByteArray();
  }

  private static BlockHandle stored(ByteArrayOutputStream out, byte[] contents) {
    BlockHandle h = new BlockHandle(out.size(), contents.length);
    byte[] covered = java.util.Arrays.copyOf(contents, contents.length + 1);
    byte[] crc = new byte[4];
    Varints.putFixed32(crc, 0, Crc32c.mask(Crc32c.of(covered)));
    out.writeBytes(contents);
    out.write(Block.NO_COMPRESSION);
    out.writeBytes(crc);
    return h;
  }

  static RangeReader memory(byte[] bytes) {
    return new RangeReader() {
      @Override
      public String location() {
        return "fuzz.index";
      }

      @Override
      public long length() {
        return bytes.length;
      }

      @Override
      public void readFully(long position, byte[] buffer, int offset, int length) {
        RangeReader.checkRange(location(), position, length, bytes.length);
        System.arraycopy(bytes, (int) position, buffer, offset, length);
      }

      @Override
      public void close() {}
    };
  }
}
