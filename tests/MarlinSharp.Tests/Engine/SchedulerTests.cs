using MarlinSharp.Models.Engine;

namespace MarlinSharp.Tests.Engine;

public class SchedulerTests
{
    /// <summary>
    /// A fake model whose next token is a function of (slot-independent) sequence content: (last token + position + 1) % vocab.
    /// It checks the engine's invariants: every position below a chunk's start was filled before, slots are distinct.
    /// </summary>
    private sealed class FakeModel(int vocab = 50, int maxContext = 32, int slots = 3, int maxBatchTokens = 8) : IStepModel
    {
        private readonly int[] _filled = new int[slots];
        private readonly List<int> _next = [];
        public int VocabSize => vocab;
        public int MaxContext => maxContext;
        public int SlotCount => slots;
        public int MaxBatchTokens => maxBatchTokens;
        public List<int> BatchSizes { get; } = [];

        public void Forward(IReadOnlyList<SequenceChunk> chunks)
        {
            LlamaModel.ValidateChunks(chunks, slots, maxContext, maxBatchTokens, vocab);
            _next.Clear();
            foreach (var c in chunks)
            {
                if (c.StartPosition == 0) _filled[c.Slot] = 0;
                Assert.Equal(_filled[c.Slot], c.StartPosition);
                _filled[c.Slot] += c.Tokens.Count;
                int pos = c.StartPosition + c.Tokens.Count - 1;
                _next.Add((c.Tokens[^1] + pos + 1) % vocab);
            }
            BatchSizes.Add(chunks.Count);
        }

        public void ReadLogits(Span<float> destination)
        {
            for (int i = 0; i < _next.Count; i++)
            {
                var row = destination.Slice(i * vocab, vocab);
                row.Fill(-10f);
                row[_next[i]] = 10f;
            }
        }

        public void ReadGreedy(Span<int> destination)
        {
            for (int i = 0; i < _next.Count; i++) destination[i] = _next[i];
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
}
