// Under VFORKSHIM_FORK=all (issue 15, #9): a child given the JVM's own
// environment and a child given an explicit copy of it plus one
// variable must see the same environment but for that variable, as
// without the shim; and neither inherits VFORKSHIM_FORK.
import java.io.IOException;

public class EnvSame {
	static String run(ProcessBuilder pb) throws IOException, InterruptedException {
		pb.redirectErrorStream(true);
		Process p = pb.start();
		String s = new String(p.getInputStream().readAllBytes());
		p.waitFor();
		return s;
	}

	public static void main(String[] a) throws Exception {
		String list = "env | grep -v '^_=' | grep -v '^ENVSAME_X=' | sort";
		String inherited = run(new ProcessBuilder("sh", "-c", list));
		ProcessBuilder pb = new ProcessBuilder("sh", "-c", list);
		pb.environment().put("ENVSAME_X", "1");
		String explicit = run(pb);
		System.out.println("inherited and explicit environments agree: " + inherited.equals(explicit));
		long n = (inherited + explicit).lines().filter(l -> l.startsWith("VFORKSHIM_FORK=")).count();
		System.out.println("VFORKSHIM_FORK in children: " + n);
	}
}
