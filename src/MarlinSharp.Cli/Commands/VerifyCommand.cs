using System.CommandLine;
using MarlinSharp.Verification;

namespace MarlinSharp.Cli.Commands;

/// <summary>The GPU correctness sweep: every batch size of the sweep, several shapes, every group size.</summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var quick = new Option<bool>("--quick") { Description = "Batch sizes up to 64 and two shapes only." };
        var seed = new Option<int?>("--seed") { Description = "Seed for the random layers (default: a fresh one, printed)." };
        var command = new Command("verify", "Check the Marlin kernel against a float64 reference on random layers; prints 'N passed, N failed'.") { quick, seed };
        command.SetAction(r => CliAction.Run(() => Run(r.GetValue(quick), r.GetValue(seed))));
        return command;
    }

    private static int Run(bool quick, int? seedOption)
    {
        int seed = seedOption ?? Random.Shared.Next();
        using var runtime = MarlinRuntime.Create();
        using var stream = runtime.CreateStream();
        Console.WriteLine($"{runtime.Device.Name}: verifying with seed {seed}");
        var rowsList = quick ? GemmVerifier.SweepRows.Where(r => r <= 64).ToArray() : GemmVerifier.SweepRows.ToArray();
        var shapes = quick ? GemmVerifier.SweepShapes.Take(2).ToArray() : GemmVerifier.SweepShapes.ToArray();
        int passed = 0, failed = 0;
        foreach (var (k, n) in shapes)
            foreach (int groupSize in GemmVerifier.SweepGroupSizes)
            {
                if (k % Math.Abs(groupSize) != 0) continue;
                using var verifier = new GemmVerifier(runtime, k, n, groupSize, rowsList.Max(), seed++);
                foreach (int rows in rowsList)
                {
                    GemmCheck check = verifier.Check(rows, stream);
                    if (check.Passed) passed++;
                    else
                    {
                        failed++;
                        Console.WriteLine(check);
                    }
                }
                Console.WriteLine($"  k={k} n={n} g={groupSize}: done ({passed} passed, {failed} failed so far)");
            }
        Console.WriteLine($"{passed} passed, {failed} failed");
        return failed == 0 ? 0 : CliAction.Failure;
    }
}
