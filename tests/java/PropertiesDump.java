// What java.util.Properties.load(InputStream) reads from a file, as MirrorMaker 2 reads
// mm2.properties (Utils.loadProps): one line per entry, key and value as UTF-16 code units in hex.
// Run as a single-file program: java tests/java/PropertiesDump.java FILE
import java.io.FileInputStream;
import java.util.Properties;
import java.util.TreeSet;

public class PropertiesDump {
    static String hex(String s) {
        StringBuilder out = new StringBuilder();
        for (char c : s.toCharArray()) out.append(String.format("%04x", (int) c));
        return out.toString();
    }

    public static void main(String[] args) throws Exception {
        Properties p = new Properties();
        try (FileInputStream in = new FileInputStream(args[0])) {
            p.load(in);
        }
        for (String key : new TreeSet<>(p.stringPropertyNames())) {
            System.out.println(hex(key) + " " + hex(p.getProperty(key)));
        }
    }
}
