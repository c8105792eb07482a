// Starts a REAL single-node Elasticsearch (9.x) in this JVM, from the jars that
// the `elasticsearch` profile of localstack/jvm/pom.xml gathers from Maven Central (server +
// transport-netty4 for HTTP).  No Docker, no tarball, no package: a single
// source file, runnable in Java's source-file mode:
//
//   $JAVA_HOME/bin/java -Xms1g -Xmx1g --enable-native-access=ALL-UNNAMED \
//       -Des.home=/path/home -cp 'LIBDIR/*' EsNode.java [-Ekey=value ...]
//
// or compiled once with `javac -cp 'LIBDIR/*' -d OUT EsNode.java` and run as
// `java ... -cp 'LIBDIR/*:OUT' EsNode`.
//
// Configuration (system property -> Elasticsearch setting, default):
//   es.home            path.home                     ./es-home (created)
//   es.data            path.data                     <home>/data
//   es.logs            path.logs                     <home>/logs
//   es.host            network.host                  127.0.0.1
//   es.port            http.port                     9200
//   es.transport.port  transport.port                9300
//   es.cluster         cluster.name                  localstack
//   es.node            node.name                     localstack-es
// Any Elasticsearch setting can also be given as an argument -Ekey=value
// (like the real `elasticsearch` CLI) and in <home>/config/elasticsearch.yml.
// Precedence: -E args > system properties above > elasticsearch.yml > defaults.
//
// Java 21+ is required (Elasticsearch 9.x); tested with Temurin 25.
// Recommended JVM flags: -Xms1g -Xmx1g --enable-native-access=ALL-UNNAMED
// --add-modules jdk.incubator.vector (both only silence warnings / enable SIMD).
//
// What this file sets up under <home> (created on first start, nothing needs
// to exist beforehand):
//   config/log4j2.properties   written if missing: INFO to stdout and to
//                              <logs>/<cluster.name>.log (edit it to change)
//   config/elasticsearch.yml   optional, read if present
//   modules/transport-netty4/, modules/localstack-rest-root/
//                              plugin-descriptor.properties only (the classes
//                              come from the classpath)
//   plugins/                   empty
//   lib/platform/native/libzstd.so -> the system libzstd (Debian: libzstd1)
//
// On start it prints one line "EsNode started http=HOST:PORT ..." to stdout
// (through the log); SIGTERM/SIGINT close the node cleanly.  The HTTP address
// actually bound is also in <logs>/http.ports (node.portsfile; es.port=0 works).
//
// Not on Maven Central, so not loaded: the distribution's modules
// (analysis-common, mapper-extras, lang-painless, reindex, aggregations,
// ingest-common, parent-join, percolator, rest-root, x-pack ...).  GET / is
// provided by RootPlugin below; the rest is simply absent (no painless scripts,
// no _reindex/_delete_by_query/_update_by_query, no scaled_float/wildcard/...,
// only the analyzers/tokenizers/filters that server itself registers).

import org.elasticsearch.Build;
import org.elasticsearch.client.internal.node.NodeClient;
import org.elasticsearch.cluster.node.DiscoveryNodes;
import org.elasticsearch.cluster.service.ClusterService;
import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.node.InternalSettingsPreparer;
import org.elasticsearch.node.Node;
import org.elasticsearch.features.NodeFeature;
import org.elasticsearch.plugins.ActionPlugin;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.plugins.PluginBundle;
import org.elasticsearch.plugins.PluginsLoader;
import org.elasticsearch.rest.BaseRestHandler;
import org.elasticsearch.rest.RestHandler;
import org.elasticsearch.rest.RestRequest;
import org.elasticsearch.rest.RestResponse;
import org.elasticsearch.rest.RestStatus;
import org.elasticsearch.xcontent.XContentBuilder;

import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.function.Predicate;
import java.util.function.Supplier;

public class EsNode {
    // Plugins that live on the application classpath.  Each is declared to
    // Elasticsearch as a non-modular "module" whose directory holds only a
    // plugin-descriptor.properties (no jars): its class loader then finds the
    // plugin classes on the classpath.
    private static final Map<String, String> CLASSPATH_MODULES = Map.of(
        "transport-netty4", "org.elasticsearch.transport.netty4.Netty4Plugin",
        // GET / (cluster info) lives in the rest-root module, which is not on
        // Maven Central: RootPlugin below is a stand-in with the same body.
        "localstack-rest-root", "EsNode$RootPlugin"
    );

    /** GET / and HEAD /, as modules/rest-root answers them (elasticsearch-py's info() and ping()). */
    public static class RootPlugin extends Plugin implements ActionPlugin {
        private volatile ClusterService clusterService;

        public RootPlugin() {}

        @Override
        public Collection<?> createComponents(PluginServices services) {
            clusterService = services.clusterService();
            return List.of();
        }

        @Override
        public Collection<RestHandler> getRestHandlers(RestHandlersServices services, Supplier<DiscoveryNodes> nodes,
                                                       Predicate<NodeFeature> clusterSupportsFeature) {
            return List.of(new BaseRestHandler() {
                @Override
                public String getName() {
                    return "main_action";
                }

                @Override
                public List<Route> routes() {
                    return List.of(new Route(RestRequest.Method.GET, "/"), new Route(RestRequest.Method.HEAD, "/"));
                }

                @Override
                public boolean canTripCircuitBreaker() {
                    return false;
                }

                @Override
                protected RestChannelConsumer prepareRequest(RestRequest request, NodeClient client) {
                    return channel -> {
                        var state = clusterService.state();
                        Build build = Build.current();
                        XContentBuilder x = channel.newBuilder();
                        if (request.hasParam("pretty") == false) x.prettyPrint().lfAtEnd();
                        x.startObject()
                            .field("name", clusterService.localNode().getName())
                            .field("cluster_name", state.getClusterName().value())
                            .field("cluster_uuid", state.metadata().clusterUUID())
                            .startObject("version")
                            .field("number", build.qualifiedVersion())
                            .field("build_flavor", "default")
                            .field("build_type", build.type().displayName())
                            .field("build_hash", build.hash())
                            .field("build_date", build.date())
                            .field("build_snapshot", build.isSnapshot())
                            .field("lucene_version", org.apache.lucene.util.Version.LATEST.toString())
                            .field("minimum_wire_compatibility_version", build.minWireCompatVersion())
                            .field("minimum_index_compatibility_version", build.minIndexCompatVersion())
                            .endObject()
                            .field("tagline", "You Know, for Search")
                            .endObject();
                        channel.sendResponse(new RestResponse(RestStatus.OK, x));
                    };
                }
            });
        }
    }

    // written to <home>/config/log4j2.properties when that file is missing:
    // INFO to the console (stdout) and to <logs>/<cluster>.log; override any
    // logger with -Elogger.org.elasticsearch.xyz=DEBUG or -Elogger.level=WARN.
    private static final String DEFAULT_LOG4J2 = String.join("\n",
        "status = error",
        "appender.console.type = Console",
        "appender.console.name = console",
        "appender.console.layout.type = PatternLayout",
        "appender.console.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] [%node_name]%marker %m%n",
        "appender.file.type = File",
        "appender.file.name = file",
        "appender.file.fileName = ${sys:es.logs.base_path}${sys:file.separator}${sys:es.logs.cluster_name}.log",
        "appender.file.layout.type = PatternLayout",
        "appender.file.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] [%node_name]%marker %m%n",
        "rootLogger.level = info",
        "rootLogger.appenderRef.console.ref = console",
        "rootLogger.appenderRef.file.ref = file",
        "");

    public static void main(String[] args) throws Exception {
        long t0 = System.nanoTime();
        // what the distribution's jvm.options / launcher would set
        setIfAbsent("log4j.shutdownHookEnabled", "false");
        setIfAbsent("log4j2.disable.jmx", "true");
        setIfAbsent("log4j2.formatMsgNoLookups", "true");
        setIfAbsent("io.netty.noUnsafe", "true");
        setIfAbsent("io.netty.noKeySetOptimization", "true");
        setIfAbsent("io.netty.recycler.maxCapacityPerThread", "0");
        setIfAbsent("java.locale.providers", "CLDR");
        setIfAbsent("es.networkaddress.cache.ttl", "60");
        setIfAbsent("es.networkaddress.cache.negative.ttl", "10");

        Path home = Path.of(System.getProperty("es.home", "es-home")).toAbsolutePath().normalize();
        Path config = home.resolve("config");
        Path modules = home.resolve("modules");
        Files.createDirectories(config);
        Files.createDirectories(home.resolve("plugins"));
        writeClasspathModules(modules);
        System.setProperty("es.path.home", home.toString());
        System.setProperty("es.path.conf", config.toString());
        setUpNativeLibs(home);

        // 1. lowest: defaults for a local single-node dev server
        Settings defaults = Settings.builder()
            .put("cluster.name", "localstack")
            .put("node.name", "localstack-es")
            .put("network.host", "127.0.0.1")
            .put("http.port", "9200")
            .put("transport.port", "9300")
            .put("discovery.type", "single-node")
            .put("node.portsfile", true)
            // a dev box's disk may be >90% full: do not block shard allocation on that
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .put("action.destructive_requires_name", false)
            .build();
        // 2. <home>/config/elasticsearch.yml (read by InternalSettingsPreparer), then
        // 3. the es.* system properties, then 4. -Ekey=value arguments
        Settings.Builder b = Settings.builder().put("path.home", home.toString());
        putIfSet(b, "path.data", "es.data");
        putIfSet(b, "path.logs", "es.logs");
        putIfSet(b, "cluster.name", "es.cluster");
        putIfSet(b, "node.name", "es.node");
        putIfSet(b, "network.host", "es.host");
        putIfSet(b, "http.port", "es.port");
        putIfSet(b, "transport.port", "es.transport.port");
        for (String a : args) {
            if (!a.startsWith("-E") || !a.contains("=")) {
                throw new IllegalArgumentException("unknown argument " + a + " (expected -Ekey=value)");
            }
            int eq = a.indexOf('=');
            b.put(a.substring(2, eq), a.substring(eq + 1));
        }
        Environment env0 = InternalSettingsPreparer.prepareEnvironment(b.build(), Map.of(), config, () -> "localstack-es");
        Settings merged = Settings.builder().put(defaults).put(env0.settings()).build();
        Environment env = new Environment(merged, config);
        Path logs = env.logsDir();
        Files.createDirectories(logs);
        for (Path d : env.dataDirs()) Files.createDirectories(d);
        String data = java.util.Arrays.toString(env.dataDirs());

        Path log4j = config.resolve("log4j2.properties");
        if (!Files.exists(log4j)) Files.writeString(log4j, DEFAULT_LOG4J2, StandardCharsets.UTF_8);
        LogConfigurator.setNodeName(Node.NODE_NAME_SETTING.get(merged));
        LogConfigurator.setClusterName(merged.get("cluster.name"));
        LogConfigurator.configure(env, true);

        Set<PluginBundle> moduleBundles = PluginsLoader.loadModulesBundles(modules, false);
        Set<PluginBundle> pluginBundles = PluginsLoader.loadPluginsBundles(home.resolve("plugins"), false);
        PluginsLoader loader = PluginsLoader.createPluginsLoader(moduleBundles, pluginBundles, Map.of(), false);
        useApplicationClassLoader(loader);

        Node node = new Node(env, loader);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(30, java.util.concurrent.TimeUnit.SECONDS);
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "es-node-shutdown"));
        node.start();

        String portsFile = logs.resolve("http.ports").toString();
        String bound = Files.exists(Path.of(portsFile)) ? Files.readString(Path.of(portsFile)).trim().replace('\n', ',') : "?";
        System.out.printf("EsNode started http=%s home=%s data=%s in %.1fs%n", bound, home, data, (System.nanoTime() - t0) / 1e9);
        System.out.flush();

        // the node's own threads are daemons: keep the JVM alive until shutdown
        stopped.await();
    }

    private static void writeClasspathModules(Path modules) throws Exception {
        String esVersion = org.elasticsearch.Build.current().version();
        for (Map.Entry<String, String> m : CLASSPATH_MODULES.entrySet()) {
            Path dir = modules.resolve(m.getKey());
            Files.createDirectories(dir);
            String descriptor = String.join("\n",
                "description=" + m.getKey() + " (from the classpath)",
                "version=" + esVersion,
                "name=" + m.getKey(),
                "classname=" + m.getValue(),
                "java.version=21",
                "elasticsearch.version=" + esVersion,
                "") ;
            Path f = dir.resolve("plugin-descriptor.properties");
            if (!Files.exists(f) || !Files.readString(f).equals(descriptor)) {
                Files.writeString(f, descriptor, StandardCharsets.UTF_8);
            }
        }
    }

    // PluginsService insists that a plugin's class is defined by the plugin's own
    // class loader; ours are on the application classpath, so point their layer
    // at the application class loader (what Elasticsearch's own test framework
    // does for "classpath plugins").  PluginsLoader.loadedPluginLayers is a
    // private Map<String, private record LoadedPluginLayer>; the record is
    // rebuilt component by component, by name.
    @SuppressWarnings("unchecked")
    private static void useApplicationClassLoader(PluginsLoader loader) throws Exception {
        Field f = PluginsLoader.class.getDeclaredField("loadedPluginLayers");
        f.setAccessible(true);
        Map<String, Object> layers = (Map<String, Object>) f.get(loader);
        for (Map.Entry<String, String> m : CLASSPATH_MODULES.entrySet()) {
            Object old = layers.get(m.getKey());
            if (old == null) throw new IllegalStateException("module " + m.getKey() + " was not loaded");
            ClassLoader cl = Class.forName(m.getValue(), false, EsNode.class.getClassLoader()).getClassLoader();
            RecordComponent[] rc = old.getClass().getRecordComponents();
            Class<?>[] types = new Class<?>[rc.length];
            Object[] values = new Object[rc.length];
            for (int i = 0; i < rc.length; i++) {
                types[i] = rc[i].getType();
                Method acc = rc[i].getAccessor();
                acc.setAccessible(true);
                values[i] = rc[i].getType() == ClassLoader.class ? cl : acc.invoke(old);
            }
            Constructor<?> c = old.getClass().getDeclaredConstructor(types);
            c.setAccessible(true);
            layers.put(m.getKey(), c.newInstance(values));
        }
    }

    // Elasticsearch's native access (zstd for best_compression stored fields,
    // mlockall, ...) loads libzstd.so from es.nativelibs.path, which the
    // distribution ships and Maven Central does not: use the system's libzstd
    // (Debian: libzstd1) through a symlink.  The SIMD "vec" library exists only in
    // the distribution, so the native vector library is switched off (the Panama
    // Vector API is used instead; --add-modules jdk.incubator.vector).
    private static void setUpNativeLibs(Path home) throws Exception {
        setIfAbsent("org.elasticsearch.nativeaccess.enableVectorLibrary", "false");
        if (System.getProperty("es.nativelibs.path") != null) return;
        Path dir = home.resolve("lib").resolve("platform").resolve("native");
        Files.createDirectories(dir);
        Path zstd = dir.resolve(System.mapLibraryName("zstd"));
        if (!Files.exists(zstd)) {
            String arch = System.getProperty("os.arch").equals("aarch64") ? "aarch64" : "x86_64";
            for (String c : List.of("/usr/lib/" + arch + "-linux-gnu/libzstd.so.1", "/lib/" + arch + "-linux-gnu/libzstd.so.1",
                                    "/usr/lib64/libzstd.so.1", "/usr/lib/libzstd.so.1", "/opt/homebrew/lib/libzstd.1.dylib",
                                    "/usr/local/lib/libzstd.1.dylib")) {
                if (Files.exists(Path.of(c))) {
                    Files.deleteIfExists(zstd);
                    Files.createSymbolicLink(zstd, Path.of(c));
                    break;
                }
            }
        }
        System.setProperty("es.nativelibs.path", dir.toString());
    }

    private static void putIfSet(Settings.Builder b, String setting, String property) {
        String v = System.getProperty(property);
        if (v != null) b.put(setting, v);
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) System.setProperty(key, value);
    }
}
