import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;

/**
 * The PostgreSQL server's CPU for one hit-count roll-up of 1,000 codes (LinkStore.addHits), two ways: a JDBC batch of
 * 1,000 one-row updates (before 2026-12-05) and one update joined to two arrays (update ... from unnest, now). Reads
 * the backend's CPU from /proc (10 ms ticks, so 50 roll-ups each), on a scratch table shaped like links.
 *
 *   java -cp ~/.m2/repository/org/postgresql/postgresql/42.7.14/postgresql-42.7.14.jar bench/RollupCost.java PORT
 *
 * PORT: a PostgreSQL on 127.0.0.1 with user postgres and no password, such as the primary `gatehouse up` prints.
 */
public class RollupCost {
    static long backendCpuMs(int pid) throws Exception {
        String[] f = Files.readString(Path.of("/proc/" + pid + "/stat")).split("\\)")[1].trim().split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10;   // utime + stime, in 10 ms ticks
    }

    public static void main(String[] args) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + args[0] + "/postgres", "postgres", "")) {
            var rs = c.createStatement().executeQuery("select pg_backend_pid()");
            rs.next();
            int pid = rs.getInt(1);
            c.createStatement().execute("create temp table t (code text primary key, target text, hits bigint not null default 0, filler text)");
            c.createStatement().execute("insert into t select 'c' || i, 'https://example.com/' || i, 0, repeat('x', 100) from generate_series(1, 1000) i");
            c.createStatement().execute("analyze t");
            c.setAutoCommit(false);
            String[] codes = new String[1000];
            Long[] counts = new Long[1000];
            for (int i = 0; i < 1000; i++) {
                codes[i] = "c" + (i + 1);
                counts[i] = (long) (i % 7 + 1);
            }
            for (String way : new String[] {"batch", "unnest", "batch", "unnest"}) {
                long cpu = backendCpuMs(pid), t = System.nanoTime();
                for (int rep = 0; rep < 50; rep++) {
                    if (way.equals("batch")) {
                        try (PreparedStatement s = c.prepareStatement("update t set hits = hits + ? where code = ?")) {
                            for (int i = 0; i < 1000; i++) {
                                s.setLong(1, counts[i]);
                                s.setString(2, codes[i]);
                                s.addBatch();
                            }
                            s.executeBatch();
                        }
                    } else {
                        try (PreparedStatement s = c.prepareStatement(
                                "update t set hits = t.hits + v.n from unnest(?::text[], ?::bigint[]) as v(code, n) where t.code = v.code")) {
                            s.setArray(1, c.createArrayOf("text", codes));
                            s.setArray(2, c.createArrayOf("bigint", counts));
                            s.executeUpdate();
                        }
                    }
                    c.commit();
                }
                System.out.printf("%-6s server CPU %5.1f ms a roll-up of 1,000 codes, wall %5.1f ms%n", way,
                        (backendCpuMs(pid) - cpu) / 50.0, (System.nanoTime() - t) / 50e6);
            }
        }
    }
}
