using System.Net;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using BatchCohort.Grains;
using BatchCohort.Runtime.Measurement;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.Runtime.Hosting;

namespace BatchCohort.Host;

/// <summary>The cluster's names (every silo and client of one cluster uses the same).</summary>
public sealed record ClusterNames(string ClusterId = "batchcohort", string ServiceId = "batchcohort");

/// <summary>
/// How a silo is set up: the same grains and services everywhere; what differs is membership and grain storage —
/// embedded (localhost clustering, state in files beside the outputs) or a cluster (Redis / Azure Storage, with the
/// failover settings measured on this machine: death declared after about 4–6 s instead of a minute).
/// </summary>
public static class SiloHosting
{
    public const string StorageName = "runs";

    /// <summary>The grains' services: the measurer, this silo's capacity and work, its pull loop.</summary>
    public static ISiloBuilder AddBatchCohort(this ISiloBuilder silo, ISubjectMeasurer measurer, int capacity)
    {
        silo.Services.AddSingleton(measurer);
        silo.Services.AddSingleton(new SiloWorkOptions { Capacity = capacity });
        silo.Services.AddSingleton<SiloWork>();
        silo.Services.AddSingleton<SiloWorkLoop>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<SiloWorkLoop>());
        silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(15));
        silo.Configure<GrainCollectionOptions>(o => o.CollectionAge = TimeSpan.FromMinutes(10));
        // The directory cache's default capacity (1,000,000 entries) takes 18.6 MB of every silo's heap at start
        // (measured: an idle silo's heap after a full collection was 23.9 MB); a run's subject grains are deactivated
        // once they report, so 100,000 entries cover many concurrent 10,000-subject runs.
        silo.Configure<GrainDirectoryOptions>(o => o.CacheSize = 100_000);
        // The strongly consistent in-cluster directory (Orleans 9+): when a silo dies, its directory ranges are recovered
        // from the survivors. The default (eventually consistent) directory instead deactivates every grain registered in the
        // dead silo's range — about a third of the subject grains working on the survivors of a 3-silo cluster — and a
        // subject grain activated again knows nothing of the work its previous activation still runs: measured twice.
#pragma warning disable ORLEANSEXP003
        silo.AddDistributedGrainDirectory();
#pragma warning restore ORLEANSEXP003
        // cluster schedules: the clock and the reminder period (production: system clock, one minute; tests may change both)
        var timing = ScheduleTiming.FromEnvironment();
        silo.Services.AddSingleton(timing);
        if (timing.ReminderPeriod < TimeSpan.FromMinutes(1))
            silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = timing.ReminderPeriod);
        return silo;
    }

    /// <summary>One silo in this process: localhost clustering on free ports, run state in <paramref name="runsDirectory"/>.</summary>
    public static ISiloBuilder UseEmbedded(this ISiloBuilder silo, string runsDirectory)
    {
        silo.UseLocalhostClustering(ClusterConnection.FreePort(), ClusterConnection.FreePort(), null, "batchcohort-embedded", "batchcohort-embedded");
        silo.Services.AddGrainStorage(StorageName, (_, _) => new FileGrainStorage(runsDirectory));
        silo.Services.AddSingleton<LocalRunResults>();
        return silo;
    }

    /// <summary>A silo of a cluster on Redis or Azure Storage.</summary>
    public static ISiloBuilder UseCluster(this ISiloBuilder silo, ClusterConnection c, ClusterNames names, IPAddress advertise, int siloPort, int gatewayPort)
    {
        silo.Configure<ClusterOptions>(o => { o.ClusterId = names.ClusterId; o.ServiceId = names.ServiceId; });
        silo.ConfigureEndpoints(advertise, siloPort, gatewayPort, listenOnAnyHostAddress: !IPAddress.IsLoopback(advertise));
        silo.Configure<ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = TimeSpan.FromSeconds(2);
            o.NumMissedProbesLimit = 2;
            o.NumVotesForDeathDeclaration = 1;
        });
        // After a restart of every silo (a power cut), new silos wait until the dead silos' rows are stale
        // (NumMissedTableIAmAliveLimit × this period) before they join: 2 × 10 s instead of Orleans' 2 × 30 s.
        silo.Configure<ClusterMembershipOptions>(o => o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(10));
        if (c.Backend == ClusterBackend.Redis)
        {
            silo.UseRedisClustering(o => o.ConfigurationOptions = c.RedisOptions());
            silo.UseRedisReminderService(o => o.ConfigurationOptions = c.RedisOptions());
            silo.AddRedisGrainStorage(StorageName, o =>
            {
                o.ConfigurationOptions = c.RedisOptions();
                o.GrainStorageSerializer = new JsonStateSerializer();
            });
        }
        else
        {
            silo.UseAzureStorageClustering(o => o.TableServiceClient = new TableServiceClient(c.Secret));
            silo.UseAzureTableReminderService(o => o.TableServiceClient = new TableServiceClient(c.Secret));
            silo.AddAzureBlobGrainStorage(StorageName, o =>
            {
                o.BlobServiceClient = new BlobServiceClient(c.Secret);
                o.GrainStorageSerializer = new JsonStateSerializer();
            });
        }
        return silo;
    }

    /// <summary>A client of a cluster: the same membership backend tells it where the gateways are.</summary>
    public static IClientBuilder UseCluster(this IClientBuilder client, ClusterConnection c, ClusterNames names)
    {
        client.Configure<ClusterOptions>(o => { o.ClusterId = names.ClusterId; o.ServiceId = names.ServiceId; });
        client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(10));
        if (c.Backend == ClusterBackend.Redis) client.UseRedisClustering(o => o.ConfigurationOptions = c.RedisOptions());
        else client.UseAzureStorageClustering(o => o.TableServiceClient = new TableServiceClient(c.Secret));
        return client;
    }
}
