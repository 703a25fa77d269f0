using MarlinSharp.Models.Engine;

namespace MarlinSharp.Tests.Engine;

public class SchedulerTests
{
    /// <summary>
    /// A fake model whose next token is a function of (slot-independent) sequence content: (last token + position + 1) % vocab.
    /// It checks the engine's invariants: every position below a chunk's start was filled before, slots are distinct.
    /// </summary>
    /// <summary>A model whose next token is (last token + its position + 1) mod vocab; it checks that every slot is filled in order.</summary>
    private class FakeModel(int vocab = 50, int maxContext = 32, int slots = 3, int maxBatchTokens = 8) : IStepModel
    {
        private readonly int[] _filled = new int[slots];
        protected readonly List<int> Next = [];
        public int VocabSize => vocab;
        public int MaxContext => maxContext;
        public int SlotCount => slots;
        public int MaxBatchTokens => maxBatchTokens;
        public List<int> BatchSizes { get; } = [];

        public virtual void Forward(IReadOnlyList<SequenceChunk> chunks) => Run(chunks, null);

        protected void Run(IReadOnlyList<SequenceChunk> chunks, Func<int, int>? chainedToken)
        {
            LlamaModel.ValidateChunks(chunks, slots, maxContext, maxBatchTokens, vocab);
            var next = new List<int>();
            for (int i = 0; i < chunks.Count; i++)
            {
                var c = chunks[i];
                if (c.StartPosition == 0) _filled[c.Slot] = 0;
                Assert.Equal(_filled[c.Slot], c.StartPosition);
                _filled[c.Slot] += c.Tokens.Count;
                int pos = c.StartPosition + c.Tokens.Count - 1;
                int last = chainedToken?.Invoke(i) ?? c.Tokens[^1];
                next.Add((last + pos + 1) % vocab);
            }
            Next.Clear();
            Next.AddRange(next);
            BatchSizes.Add(chunks.Count);
        }

        public void ReadLogits(Span<float> destination)
        {
            for (int i = 0; i < Next.Count; i++)
            {
                var row = destination.Slice(i * vocab, vocab);
                row.Fill(-10f);
                row[Next[i]] = 10f;
            }
        }

        public void ReadGreedy(Span<int> destination)
        {
            for (int i = 0; i < Next.Count; i++) destination[i] = Next[i];
        }
    }

    /// <summary>
    /// FakeModel with the pipelined interface. Its "GPU" runs every call at once, so what it checks is the protocol: a
    /// chained step takes its inputs from the greedy tokens of the step just before it (queued after it), and readbacks
    /// come back in order, at most two unread.
    /// </summary>
    private sealed class FakePipelinedModel(int vocab = 50, int maxContext = 32, int slots = 3, int maxBatchTokens = 8)
        : FakeModel(vocab, maxContext, slots, maxBatchTokens), IPipelinedStepModel
    {
        private readonly Queue<int[]> _queued = new();
        private int[]? _onDevice;               // the last step's greedy tokens, while no step has run since

        public int Chained { get; private set; }

        public override void Forward(IReadOnlyList<SequenceChunk> chunks)
        {
            _onDevice = null;
            Run(chunks, null);
        }

        public void QueueGreedy()
        {
            Assert.True(_queued.Count < 2, "at most two readbacks may be queued unread");
            _onDevice = [.. Next];
            _queued.Enqueue(_onDevice);
        }

        public void ReadQueuedGreedy(Span<int> destination)
        {
            var tokens = _queued.Dequeue();
            tokens.CopyTo(destination);
        }

        public void ForwardChained(IReadOnlyList<ChainedDecodeEntry> entries)
        {
            var previous = _onDevice ?? throw new InvalidOperationException("chained step without the last step's greedy tokens");
            _onDevice = null;
            Chained++;
            Run([.. entries.Select(e => new SequenceChunk(e.Slot, e.Position, [0]))], i => previous[entries[i].PreviousRow]);
        }
    }

    private static List<int> Expected(IReadOnlyList<int> prompt, int count, int vocab = 50)
    {
        var all = prompt.ToList();
        var result = new List<int>();
        for (int i = 0; i < count; i++)
        {
            int next = (all[^1] + all.Count) % vocab;
            result.Add(next);
            all.Add(next);
        }
        return result;
    }

    [Fact]
    public void ManyRequestsOfDifferentLengthsJoinAndLeave()
    {
        var model = new FakeModel();
        var scheduler = new BatchScheduler(model);
        var prompts = new[] { new[] { 1, 2, 3 }, [4], [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], [16, 17], [18] };
        var maxTokens = new[] { 5, 9, 3, 7, 4 };
        var streamed = new Dictionary<int, List<int>>();
        var ids = new List<int>();
        for (int i = 0; i < prompts.Length; i++)
            ids.Add(scheduler.Submit(new GenerationRequest(prompts[i], maxTokens[i],
                OnToken: e => { if (!streamed.TryGetValue(e.RequestId, out var l)) streamed[e.RequestId] = l = []; Assert.Equal(l.Count, e.Index); l.Add(e.Token); })));
        Assert.Equal(5, scheduler.PendingCount);

        var results = scheduler.RunToCompletion();
        Assert.Equal(5, results.Count);
        for (int i = 0; i < prompts.Length; i++)
        {
            var r = results.Single(x => x.RequestId == ids[i]);
            Assert.Equal(FinishReason.MaxTokens, r.Finish);
            Assert.Equal(Expected(prompts[i], maxTokens[i]), r.Tokens);
            Assert.Equal(r.Tokens, streamed[ids[i]]);
        }
        Assert.All(model.BatchSizes, n => Assert.InRange(n, 1, 3));
        Assert.Contains(3, model.BatchSizes);
        Assert.Equal(0, scheduler.ActiveCount);
        Assert.Equal(0, scheduler.PendingCount);
    }

    [Fact]
    public void StopTokenEndsTheSequenceAndIsIncluded()
    {
        var model = new FakeModel();
        var scheduler = new BatchScheduler(model);
        var expected = Expected([7], 10);
        int stop = expected[3];
        FinishReason? last = null;
        scheduler.Submit(new GenerationRequest([7], 10, StopTokens: [stop], OnToken: e => last = e.Finish));
        var r = scheduler.RunToCompletion().Single();
        Assert.Equal(FinishReason.StopToken, r.Finish);
        Assert.Equal(expected.Take(expected.IndexOf(stop) + 1), r.Tokens);
        Assert.Equal(FinishReason.StopToken, last);
    }

    [Fact]
    public void ContextFullStopsAtTheLastPosition()
    {
        var model = new FakeModel(maxContext: 10);
        var scheduler = new BatchScheduler(model);
        scheduler.Submit(new GenerationRequest([1, 2, 3, 4, 5, 6], 100));
        var r = scheduler.RunToCompletion().Single();
        Assert.Equal(FinishReason.ContextFull, r.Finish);
        Assert.Equal(5, r.Tokens.Count);  // 6 prompt positions + 4 fed-back tokens fill 10; the 5th token is not fed back
        Assert.Throws<ArgumentException>(() => scheduler.Submit(new GenerationRequest(Enumerable.Range(0, 11).ToArray(), 1)));
    }

    [Fact]
    public void LongPromptsArePrefilledInPieces()
    {
        var model = new FakeModel(maxBatchTokens: 4, maxContext: 32);
        var scheduler = new BatchScheduler(model);
        var prompt = Enumerable.Range(1, 13).ToArray();
        scheduler.Submit(new GenerationRequest(prompt, 3));
        var r = scheduler.RunToCompletion().Single();
        Assert.Equal(Expected(prompt, 3), r.Tokens);
        Assert.Equal(4 + 2, scheduler.ForwardSteps);  // ceil(13/4) prefill steps, then two decode steps
    }

    [Fact]
    public void SampledRequestsAreReproducibleWithASeed()
    {
        List<int> Run()
        {
            var scheduler = new BatchScheduler(new FakeModel());
            scheduler.Submit(new GenerationRequest([3, 4], 6, new SamplingOptions(Temperature: 50, Seed: 9)));
            scheduler.Submit(new GenerationRequest([5], 6));
            return scheduler.RunToCompletion().SelectMany(x => x.Tokens).ToList();
        }
        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void SlotAllocatorHandsOutLowestFreeSlotAndRejectsDoubleRelease()
    {
        var a = new KvSlotAllocator(3);
        Assert.True(a.TryAllocate(out int s0));
        Assert.True(a.TryAllocate(out int s1));
        Assert.True(a.TryAllocate(out int s2));
        Assert.Equal([0, 1, 2], new[] { s0, s1, s2 });
        Assert.False(a.TryAllocate(out _));
        a.Release(1);
        Assert.Equal(1, a.Available);
        Assert.True(a.TryAllocate(out int again));
        Assert.Equal(1, again);
        a.Release(2);
        Assert.Throws<InvalidOperationException>(() => a.Release(2));
        Assert.False(a.IsAllocated(2));
    }

    [Fact]
    public void ChunkValidationNamesTheProblem()
    {
        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => LlamaModel.ValidateChunks([new(0, 0, [1]), new(0, 1, [2])], 2, 16, 8, 10)).Message);
        Assert.Contains("context", Assert.Throws<ArgumentException>(() => LlamaModel.ValidateChunks([new(0, 15, [1, 2])], 2, 16, 8, 10)).Message);
        Assert.Contains("vocabulary", Assert.Throws<ArgumentException>(() => LlamaModel.ValidateChunks([new(0, 0, [10])], 2, 16, 8, 10)).Message);
        Assert.Contains("sized for", Assert.Throws<ArgumentException>(() => LlamaModel.ValidateChunks([new(0, 0, new int[9])], 2, 16, 8, 10)).Message);
    }

    /// <summary>Submits a random workload: prompts, limits, stop tokens and more requests than slots.</summary>
    private static (List<GenerationResult> Results, Dictionary<int, List<TokenEvent>> Events, BatchScheduler Scheduler) RunWorkload(
        IStepModel model, int seed, bool sampled = false)
    {
        var rng = new Random(seed);
        var scheduler = new BatchScheduler(model);
        var events = new Dictionary<int, List<TokenEvent>>();
        int requests = rng.Next(1, 9);
        for (int i = 0; i < requests; i++)
        {
            var prompt = Enumerable.Range(0, rng.Next(1, 11)).Select(_ => rng.Next(50)).ToArray();
            int[]? stops = rng.Next(3) == 0 ? null : Enumerable.Range(0, rng.Next(1, 4)).Select(_ => rng.Next(50)).ToArray();
            var sampling = sampled && i == requests / 2 ? new SamplingOptions(Temperature: 2, Seed: (ulong)seed) : null;
            scheduler.Submit(new GenerationRequest(prompt, rng.Next(1, 13), sampling, stops,
                e => { if (!events.TryGetValue(e.RequestId, out var l)) events[e.RequestId] = l = []; l.Add(e); }));
        }
        return ([.. scheduler.RunToCompletion()], events, scheduler);
    }

    [Fact]
    public void PipelinedGreedyDecodingGivesExactlyTheStepByStepTokens()
    {
        int chained = 0, extraRows = 0;
        for (int seed = 0; seed < 200; seed++)
        {
            var plainModel = new FakeModel(maxContext: 24);
            var pipelinedModel = new FakePipelinedModel(maxContext: 24);
            var (plain, plainEvents, plainScheduler) = RunWorkload(plainModel, seed);
            var (pipelined, pipelinedEvents, scheduler) = RunWorkload(pipelinedModel, seed);
            Assert.False(plainScheduler.PipelineDecode);
            Assert.True(scheduler.PipelineDecode);
            Assert.Equal(plain.Count, pipelined.Count);
            foreach (var r in plain)
            {
                var p = pipelined.Single(x => x.RequestId == r.RequestId);
                Assert.Equal(r.Finish, p.Finish);
                Assert.Equal(r.Tokens, p.Tokens);
                Assert.Equal(plainEvents[r.RequestId], pipelinedEvents[r.RequestId]);
            }
            Assert.Equal(pipelinedModel.Chained, scheduler.ChainedSteps);
            chained += scheduler.ChainedSteps;
            // Stop tokens are not known ahead, so a pipelined run may compute rows it then drops, never fewer.
            extraRows += pipelinedModel.BatchSizes.Sum() - plainModel.BatchSizes.Sum();
            Assert.True(pipelinedModel.BatchSizes.Sum() >= plainModel.BatchSizes.Sum(), $"seed {seed}: fewer rows than step by step");
            Assert.Equal(0, scheduler.ActiveCount);
        }
        Assert.True(chained > 500, $"only {chained} chained steps over 200 workloads");
        Assert.True(extraRows > 0, "no workload ended a sequence on a stop token while a step was queued ahead");
    }

    [Fact]
    public void PipelinedStepsQueueNothingPastKnownEndsAndAdmitWaitingRequestsAtOnce()
    {
        // Token limits only: every end is known ahead, so the pipelined run computes exactly the rows of the plain one
        // and admits the waiting request in the same step.
        var plainModel = new FakeModel(slots: 2);
        var pipelinedModel = new FakePipelinedModel(slots: 2);
        foreach (var model in new IStepModel[] { plainModel, pipelinedModel })
        {
            var scheduler = new BatchScheduler(model);
            scheduler.Submit(new GenerationRequest([1, 2], 3));
            scheduler.Submit(new GenerationRequest([3], 9));
            scheduler.Submit(new GenerationRequest([4, 5, 6], 4));
            var results = scheduler.RunToCompletion();
            Assert.Equal([Expected([1, 2], 3), Expected([3], 9), Expected([4, 5, 6], 4)],
                results.OrderBy(r => r.RequestId).Select(r => r.Tokens.ToList()).ToList());
        }
        Assert.Equal(plainModel.BatchSizes, pipelinedModel.BatchSizes);
        Assert.True(pipelinedModel.Chained > 0);
    }

    [Fact]
    public void SampledRequestsAreNeverPipelined()
    {
        for (int seed = 0; seed < 40; seed++)
        {
            var plain = RunWorkload(new FakeModel(maxContext: 24), seed, sampled: true);
            var model = new FakePipelinedModel(maxContext: 24);
            var pipelined = RunWorkload(model, seed, sampled: true);
            foreach (var r in plain.Results)
                Assert.Equal(r.Tokens, pipelined.Results.Single(x => x.RequestId == r.RequestId).Tokens);
        }
        // A single sampled request: every decode step reads logits on the host.
        var only = new FakePipelinedModel();
        var scheduler = new BatchScheduler(only);
        scheduler.Submit(new GenerationRequest([3, 4], 6, new SamplingOptions(Temperature: 50, Seed: 9)));
        scheduler.RunToCompletion();
        Assert.Equal(0, scheduler.ChainedSteps);
        Assert.Equal(0, only.Chained);
    }

    [Fact]
    public void PipeliningCanBeSwitchedOffAndNeedsAPipelinedModel()
    {
        var model = new FakePipelinedModel();
        var scheduler = new BatchScheduler(model) { PipelineDecode = false };
        scheduler.Submit(new GenerationRequest([7], 10));
        Assert.Equal(Expected([7], 10), scheduler.RunToCompletion().Single().Tokens);
        Assert.Equal(0, model.Chained);
        var plain = new BatchScheduler(new FakeModel());
        var e = Assert.Throws<ArgumentException>(() => plain.PipelineDecode = true);
        Assert.Contains("IPipelinedStepModel", e.Message);
    }
}
