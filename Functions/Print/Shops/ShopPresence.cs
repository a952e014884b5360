using System.Collections.Concurrent;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using Serverless.Platform.Identity;
using Serverless.Platform.Storage;
using Serverless.Print.Accounts;

namespace Serverless.Print.Shops;

/// <summary>Shop settings: <c>Print:Shops:StaleAfter</c>, how long an open shop may go unseen before the sweeper closes it.</summary>
public sealed class ShopSettings : Platform.IValidatedSettings
{
    public ShopSettings(IConfiguration configuration)
    {
        StaleAfter = configuration.GetValue("Print:Shops:StaleAfter", TimeSpan.FromMinutes(5));
        if (StaleAfter <= TimeSpan.Zero)
            throw new OptionsValidationException("Print:Shops:StaleAfter", typeof(ShopSettings),
                [$"Print__Shops__StaleAfter must be a positive time span such as 00:05:00; '{StaleAfter}' is not."]);
    }

    public TimeSpan StaleAfter { get; }
}

/// <summary>What one sweep did: open shops looked at, closed as stale, and index rows repaired.</summary>
public sealed record SweepResult(int Checked, int Closed, int Repaired);

/// <summary>Marks the endpoint of the shop app's heartbeat: it is the app's sign of life, not web activity.</summary>
public sealed class AppHeartbeatEndpoint
{
    public static readonly AppHeartbeatEndpoint Instance = new();
}

/// <summary>
/// Whether a shop is open: the shopkeeper's own switch (<c>POST /shop/status</c>), the app's heartbeat
/// (<see cref="PrintProfile.LastHeartbeatAt"/>), web activity (any print request of the shopkeeper, recorded at most
/// once a minute), and the stale-shop sweeper, which closes an open shop when neither has been seen for
/// <see cref="ShopSettings.StaleAfter"/> (counting from when it opened). Every profile write goes through the
/// transition seam (ETag-conditional, re-decided on a lost race) and is followed by the index (<see cref="ShopIndex.SyncAsync"/>).
/// </summary>
public sealed class ShopPresence(StorageAccount storage, ShopIndex index, ShopSettings settings, TimeProvider time, ILogger<ShopPresence> logger)
{
    public const string SweepFunction = "PrintStaleShopSweep";
    public const string SweepSchedule = "0 */1 * * * *";

    /// <summary>Web activity is written at most this often per shop.</summary>
    public static readonly TimeSpan WebActivityInterval = TimeSpan.FromMinutes(1);

    private const int SweepParallelism = 8;

    // When this instance last wrote (or saw stored) each shop's web activity: most requests need no storage at all.
    private readonly ConcurrentDictionary<long, DateTimeOffset> _webActivity = new();

    private TableClient Profiles => storage.Table(UserDirectory.TableName);

    /// <summary>
    /// Opens or closes the shop. Opening writes the open-shops row first, so that the sweeper always knows of an open
    /// shop; the profile follows (a shop that opens starts its stale clock), then its listing. Null when the profile is gone.
    /// </summary>
    public async Task<PrintProfile?> SetOpenAsync(PrintProfile current, bool open, CancellationToken cancellationToken = default)
    {
        if (open)
            await index.MarkOpeningAsync(current.UserId, cancellationToken);
        var now = time.GetUtcNow();
        var stored = await Profiles.TransitionAsync(current, p => p with
        {
            IsOpen = open,
            OpenedAt = open && !p.IsOpen ? now : p.OpenedAt,
        }, cancellationToken);
        // Written even when nothing changed: a status call repairs a listing whose last sync was cut short.
        if (stored is not null)
            await index.SyncAsync(stored, cancellationToken);
        return stored;
    }

    /// <summary>Records the app's heartbeat. It does not reopen a closed shop: only the shopkeeper's switch does.</summary>
    public Task<PrintProfile?> HeartbeatAsync(PrintProfile current, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        return Profiles.TransitionAsync(current, p => p with { LastHeartbeatAt = now }, cancellationToken);
    }

    /// <summary>
    /// Records web activity of a shopkeeper's request when it is due (none recorded by this instance or stored in
    /// the last minute): the profile as stored then, else null and no storage request at all.
    /// </summary>
    public async Task<PrintProfile?> NoteWebActivityAsync(PrintProfile profile, CancellationToken cancellationToken = default)
    {
        if (profile.Role != PrintRoles.Shopkeeper || profile.ETag == default)
            return null;
        var now = time.GetUtcNow();
        var id = profile.UserId;
        if (_webActivity.TryGetValue(id, out var noted) && now - noted < WebActivityInterval)
            return null;
        if (profile.LastWebActivityAt is { } stored && now - stored < WebActivityInterval)
        {
            _webActivity[id] = stored;
            return null;
        }
        _webActivity[id] = now;
        return await Profiles.TransitionAsync(profile, p => p.LastWebActivityAt is { } at && now - at < WebActivityInterval
            ? null
            : p with { LastWebActivityAt = now }, cancellationToken);
    }

    /// <summary>True when the open shop has not been seen (heartbeat, web activity, or opening) within the limit.</summary>
    public bool IsStale(PrintProfile profile, DateTimeOffset now)
    {
        var seen = new[] { profile.LastHeartbeatAt, profile.LastWebActivityAt, profile.OpenedAt ?? profile.CreatedAt }.Max();
        return seen is null || now - seen.Value > settings.StaleAfter;
    }

    /// <summary>
    /// The stale-shop sweep: reads only the open-shops list; closes each open shop that is stale (the decision is
    /// taken again on the row as stored, so a heartbeat that just arrived keeps it open) and syncs its listing; an
    /// open-shops row whose profile is not open (a write cut short) is repaired from the profile. Safe to repeat or skip.
    /// </summary>
    public async Task<SweepResult> SweepAsync(CancellationToken cancellationToken = default)
    {
        var shards = await Task.WhenAll(Enumerable.Range(0, ShopKeys.OpenShards).Select(s => index.OpenShopsAsync(s, cancellationToken)));
        int closed = 0, repaired = 0;
        var ids = shards.SelectMany(s => s).ToList();
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = SweepParallelism, CancellationToken = cancellationToken },
            async (id, ct) =>
            {
                try
                {
                    switch (await SweepOneAsync(id, ct))
                    {
                        case SweepOutcome.Closed:
                            Interlocked.Increment(ref closed);
                            break;
                        case SweepOutcome.Repaired:
                            Interlocked.Increment(ref repaired);
                            break;
                    }
                }
                catch (Azure.RequestFailedException ex)
                {
                    // One shop's failure does not stop the others; the next sweep tries it again.
                    logger.LogWarning(ex, "The stale-shop sweep could not check shop {ShopId}", id);
                }
            });
        if (closed > 0 || repaired > 0)
            logger.LogInformation("Stale-shop sweep: {Checked} open shops, {Closed} closed, {Repaired} repaired", ids.Count, closed, repaired);
        return new SweepResult(ids.Count, closed, repaired);
    }

    private enum SweepOutcome { Open, Closed, Repaired }

    private async Task<SweepOutcome> SweepOneAsync(long shopId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var result = await Profiles.ApplyAsync<PrintProfile, bool>(AccountKeys.Partition(shopId), AccountKeys.Profile, change =>
        {
            if (change.Current is not { IsOpen: true } profile || !IsStale(profile, now))
                return false;
            change.Write(profile with { IsOpen = false });
            return true;
        }, cancellationToken);
        if (result.Row is not { } profile)
        {
            await index.ForgetOpenAsync(shopId, cancellationToken);
            return SweepOutcome.Repaired;
        }
        if (result is { Written: true, Outcome: true })
        {
            await index.SyncAsync(profile, cancellationToken);
            return SweepOutcome.Closed;
        }
        if (!profile.IsOpen)
        {
            // Closed, yet still listed as open: the write that closed it was not followed by its sync.
            await index.SyncAsync(profile, cancellationToken);
            return SweepOutcome.Repaired;
        }
        return SweepOutcome.Open;
    }
}
