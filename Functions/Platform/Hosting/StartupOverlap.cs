using Microsoft.Extensions.Primitives;

namespace Serverless.Platform.Hosting;

/// <summary>
/// What start-up does once instead of twice, and beside the main thread instead of after it (bench/README.md, "Cold
/// start"), called by Program.cs in order: what is registered, then what is mapped, then the work started early.
/// </summary>
public static class StartupOverlap
{
    /// <summary>
    /// No data-protection key ring loaded (or created and written) at start-up: authentication registers data
    /// protection, but nothing in the app protects data with it (tokens are JWTs, the print shop's CSRF token is its
    /// own HMAC). Should anything ever use it, the key ring loads on that first use instead.
    /// </summary>
    public static void SkipEagerKeyRing(IServiceCollection services)
    {
        for (var i = services.Count - 1; i >= 0; i--)
            if (services[i].ServiceType == typeof(IHostedService)
                && services[i].ImplementationType?.FullName == "Microsoft.AspNetCore.DataProtection.Internal.DataProtectionHostedService")
                services.RemoveAt(i);
    }

    /// <summary>
    /// <c>UseAuthorization</c>, constructed on the first request rather than with the pipeline. Its policy cache reads
    /// every endpoint when it is constructed, which held the server's start (binding its port) until the endpoints were
    /// built; now the server starts while they build, and the first request, which the router holds until they are
    /// built in any case, constructs it. Same middleware, same place in the pipeline, every request through it.
    /// </summary>
    public static void UseAuthorizationOnFirstRequest(IApplicationBuilder app)
    {
        // What UseAuthorization records, so that WebApplication does not add one of its own at the pipeline's start.
        app.Properties["__AuthorizationMiddlewareSet"] = true;
        app.Use(next =>
        {
            var branch = app.New();
            branch.UseAuthorization();
            branch.Run(next);
            var built = new Lazy<RequestDelegate>(branch.Build, LazyThreadSafetyMode.ExecutionAndPublication);
            return context => built.Value(context);
        });
    }

    /// <summary>
    /// Each mapped data source builds its endpoints (request delegates, metadata, JSON contracts) every time it is
    /// asked, and two readers ask: the routing matcher and the authorization policy cache, both on the first request
    /// (<see cref="UseAuthorizationOnFirstRequest"/>). Wrapped, they share one build.
    /// </summary>
    public static void ShareEndpoints(IEndpointRouteBuilder app)
    {
        var sources = app.DataSources.ToList();
        app.DataSources.Clear();
        foreach (var source in sources)
            app.DataSources.Add(source as BuiltOnce ?? new BuiltOnce(source));
    }

    /// <summary>
    /// Starts building the endpoints on a thread of their own now, while the main thread checks the configuration, starts the
    /// hosted services, builds the pipeline and starts the server; the first request's router then takes the shared
    /// build (helping with what is left). Nothing outside the process is touched: a misconfigured app still stops with
    /// its one line.
    /// </summary>
    public static void BuildEndpoints(IEndpointRouteBuilder app)
    {
        var sources = app.DataSources.OfType<BuiltOnce>().ToList();
        // A thread of its own: a few hundred milliseconds of CPU would hold one of the thread pool's few threads
        // (two on two cores) while the storage work's continuations queue behind it. Last source first: the first
        // request's router, when it comes to need them, takes them first to last, building those not started yet itself
        // (each source is built once, under its own lock), so the two meet in the middle rather than one waiting.
        new Thread(() =>
        {
            for (var i = sources.Count - 1; i >= 0; i--)
                sources[i].TryBuild();
            StartupTimeline.Mark("endpoints built (beside the main thread)");
        }) { IsBackground = true, Name = "Endpoint build" }.Start();
    }

    /// <summary>
    /// Starts reading the storage catalog's marker on the thread pool (a read, and silent: see
    /// <see cref="Storage.StorageReadiness.PrefetchMarker"/>), so the storage client's first request overlaps the
    /// endpoints' mapping and the configuration check. Storage settings that are missing or malformed are left for
    /// the configuration check to report, in its one line.
    /// </summary>
    public static void PrefetchStorage(WebApplication app) => _ = Task.Run(() =>
    {
        try
        {
            app.Services.GetRequiredService<Storage.StorageReadiness>().PrefetchMarker();
        }
        catch (Exception)
        {
            // Not configured (or not constructible): the configuration check says why.
        }
    });

    /// <summary>
    /// Starts the storage work (<see cref="Storage.StorageReadiness"/>: the catalog, migrations, the first admin) now
    /// rather than when the host starts its services; <c>/health</c> answers 200 once it is done. Only after the
    /// configuration check has passed, since it writes.
    /// </summary>
    public static void BeginStorage(WebApplication app) => app.Services.GetRequiredService<Storage.StorageReadiness>().Begin();

    /// <summary>A data source's endpoints, built on first use and kept (mapped endpoints do not change after start-up).</summary>
    internal sealed class BuiltOnce(EndpointDataSource inner) : EndpointDataSource
    {
        private readonly Lock _gate = new();
        private IReadOnlyList<Endpoint>? _endpoints;

        public override IReadOnlyList<Endpoint> Endpoints
        {
            get
            {
                if (Volatile.Read(ref _endpoints) is { } built)
                    return built;
                lock (_gate)
                    return _endpoints ??= inner.Endpoints;
            }
        }

        /// <summary>Builds now if not yet; a failure is left for the reader that needs the endpoints to meet.</summary>
        public void TryBuild()
        {
            try
            {
                _ = Endpoints;
            }
            catch (Exception)
            {
                // Nothing is kept; the pipeline's own read builds again and fails where it is reported.
            }
        }

        public override IChangeToken GetChangeToken() => inner.GetChangeToken();

        public override IReadOnlyList<Endpoint> GetGroupedEndpoints(RouteGroupContext context) => inner.GetGroupedEndpoints(context);
    }
}
