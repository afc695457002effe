using System.CommandLine;
using System.Reflection;

namespace BatchCohort.Cli;

/// <summary>
/// A verb of the <c>batchcohort</c> command. Each verb lives in its own file under Commands/ and is found by
/// reflection, so adding a verb touches no shared file.
/// </summary>
public interface ICliCommand
{
    /// <summary>Builds the System.CommandLine command, with its action set.</summary>
    Command Build();
}

/// <summary>Exit codes shared by every verb.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>Bad input: a file that cannot be read, an invalid argument. One line on stderr says which and why.</summary>
    public const int BadInput = 2;
    /// <summary>The job ran but some subjects failed (listed by id and reason).</summary>
    public const int SomeFailed = 3;
    /// <summary>Interrupted (Ctrl-C).</summary>
    public const int Interrupted = 130;
    /// <summary>An internal error: a bug. The message is printed without a stack trace unless BATCHCOHORT_DEBUG=1.</summary>
    public const int InternalError = 70;
}

public static class CliApp
{
    public static async Task<int> RunAsync(string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        var err = stderr ?? Console.Error;
        var root = new RootCommand("BatchCohort: measures brains in bulk (head, intracranial and brain volumes, eTIV/ASF, nWBV, group statistics).");
        foreach (var cmd in DiscoverCommands()) root.Subcommands.Add(cmd.Build());
        // Ctrl-C cancels the verb's token; the verb then stops its work and saves its state (an interrupted run writes
        // its run state and says how to resume). System.CommandLine's default would kill the process 2 s after the
        // signal, which on a loaded machine cut that short: a silent exit 130 (seen in RunCommandTests under load).
        var config = new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = TimeSpan.FromSeconds(60) };
        if (stdout is not null) config.Output = stdout;
        if (stderr is not null) config.Error = stderr;
        try
        {
            var parse = root.Parse(args);
            if (parse.Errors.Count > 0 && !IsHelpOrVersion(args))
            {
                // a usage error is bad input: one line per problem, exit 2 (System.CommandLine's own default is 1)
                var e = config.Error ?? Console.Error;
                foreach (var pe in parse.Errors) e.WriteLine($"batchcohort: error: {pe.Message}");
                e.WriteLine($"batchcohort: see 'batchcohort {string.Join(' ', parse.CommandResult.Command is RootCommand ? Array.Empty<string>() : new[] { parse.CommandResult.Command.Name })} --help'".Replace("  ", " "));
                return ExitCodes.BadInput;
            }
            return await parse.InvokeAsync(config);
        }
        catch (Exception ex)
        {
            return Report(ex, err);
        }
    }

    /// <summary>Turns an exception into one line for a person and an exit code. Never prints a stack trace by default.</summary>
    public static int Report(Exception ex, TextWriter err)
    {
        while (ex is AggregateException { InnerExceptions.Count: 1 } ag) ex = ag.InnerExceptions[0];
        while (ex is TargetInvocationException { InnerException: { } inner }) ex = inner;
        bool debug = Environment.GetEnvironmentVariable("BATCHCOHORT_DEBUG") == "1";
        switch (ex)
        {
            case BatchCohort.Runtime.Cohorts.CohortValidationException v:
                foreach (var p in v.Problems) err.WriteLine($"batchcohort: error: {OneLine(p)}");
                return ExitCodes.BadInput;
            case OperationCanceledException:
                err.WriteLine("batchcohort: interrupted");
                return ExitCodes.Interrupted;
            case IOException or UnauthorizedAccessException or ArgumentException or InvalidDataException or FormatException or NotSupportedException:
                err.WriteLine($"batchcohort: error: {OneLine(ex.Message)}");
                if (debug) err.WriteLine(ex);
                return ExitCodes.BadInput;
            case OutOfMemoryException:
                err.WriteLine("batchcohort: error: not enough memory for this input");
                return ExitCodes.BadInput;
            default:
                err.WriteLine($"batchcohort: internal error ({ex.GetType().Name}): {OneLine(ex.Message)} (set BATCHCOHORT_DEBUG=1 for details)");
                if (debug) err.WriteLine(ex);
                return ExitCodes.InternalError;
        }
    }

    private static bool IsHelpOrVersion(string[] args) =>
        args.Any(a => a is "-h" or "--help" or "-?" or "/?" or "/h") || (args.Length == 1 && args[0] == "--version");

    private static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();

    private static IEnumerable<ICliCommand> DiscoverCommands() =>
        typeof(CliApp).Assembly.GetTypes()
            .Where(t => typeof(ICliCommand).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
            .OrderBy(t => t.Name, StringComparer.Ordinal)
            .Select(t => (ICliCommand)Activator.CreateInstance(t)!);
}
