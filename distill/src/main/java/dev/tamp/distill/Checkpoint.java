package dev.tamp.distill;

import dev.tamp.core.error.BadInputException;
import dev.tamp.formats.io.AtomicFiles;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * A distillation checkpoint: DIR/state.bin holds the step reached, the run's option fingerprint, the loss history and,
 * per trained weight, the float master values and both AdamW moments — everything the next step depends on, so a
 * resumed run continues bit for bit. Written atomically (temp file + rename).
 */
final class Checkpoint {
    static final String FILE = "state.bin";
    private static final String MAGIC = "tamp-distill-checkpoint-1";

    private Checkpoint() {}

    static void write(Path dir, String fingerprint, int step, List<StudentWeight> params, float[][] m, float[][] v, double[] losses) {
        AtomicFiles.writeStream(dir.resolve(FILE), os -> {
            DataOutputStream out = new DataOutputStream(os);
            out.writeUTF(MAGIC);
            out.writeUTF(fingerprint);
            out.writeInt(step);
            out.writeInt(losses.length);
            for (int i = 0; i < step; i++) out.writeDouble(losses[i]);
            out.writeInt(params.size());
            for (int i = 0; i < params.size(); i++) {
                out.writeUTF(params.get(i).name);
                floats(out, params.get(i).master);
                floats(out, m[i]);
                floats(out, v[i]);
            }
            out.flush();
        });
    }

    /** Restores masters and moments in place; returns the step to continue from. */
    static int read(Path dir, String fingerprint, List<StudentWeight> params, float[][] m, float[][] v, double[] losses) {
        Path f = dir.resolve(FILE);
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(f), 1 << 20))) {
            if (!MAGIC.equals(in.readUTF())) throw BadInputException.inFile(f, "not a tamp distill checkpoint");
            String fp = in.readUTF();
            if (!fp.equals(fingerprint)) {
                throw BadInputException.inFile(f, "checkpoint was written with other options (" + fp + "); resume with the same --steps/--lr/--batch/--seq/--warmup/--seed/--loss/--mx-formats");
            }
            int step = in.readInt();
            if (in.readInt() != losses.length || step < 0 || step > losses.length) throw BadInputException.inFile(f, "step count does not match --steps");
            for (int i = 0; i < step; i++) losses[i] = in.readDouble();
            if (in.readInt() != params.size()) throw BadInputException.inFile(f, "holds a different set of trained weights than the student");
            for (int i = 0; i < params.size(); i++) {
                String name = in.readUTF();
                if (!name.equals(params.get(i).name)) throw BadInputException.inFile(f, "weight " + name + " where the student has " + params.get(i).name);
                readFloats(in, params.get(i).master, f, name);
                readFloats(in, m[i], f, name);
                readFloats(in, v[i], f, name);
            }
            return step;
        } catch (NoSuchFileException e) {
            throw BadInputException.inFile(dir, "no checkpoint (" + FILE + ") in this directory");
        } catch (java.io.EOFException e) {
            throw BadInputException.inFile(f, "truncated checkpoint");
        } catch (IOException e) {
            throw BadInputException.inFile(f, "cannot read: " + e.getMessage());
        }
    }

    private static void floats(DataOutputStream out, float[] a) throws IOException {
        out.writeInt(a.length);
        byte[] b = new byte[a.length * 4];
        java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(a);
        out.write(b);
    }

    private static void readFloats(DataInputStream in, float[] a, Path f, String name) throws IOException {
        if (in.readInt() != a.length) throw BadInputException.inFile(f, "weight " + name + " has another size than the student's");
        byte[] b = new byte[a.length * 4];
        in.readFully(b);
        java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(a);
    }
}
