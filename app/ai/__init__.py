"""AI assistance (issue 18): prompts, JSON schemas, reply validation and the two ways to run a model
(llama-cpp in the worker, or any OpenAI-compatible server). No Flask or database imports here: jobs
call these with plain values, and the web process never imports this package's backends."""


class AIError(RuntimeError):
    """The model could not give a valid answer; the message says why, for the page that shows it."""


def load_object(reply: str) -> dict:
    """A model's reply as a JSON object, or AIError saying why not."""
    import json

    try:
        data = json.loads(reply)
    except (TypeError, ValueError) as exc:
        raise AIError(f"the model's reply was not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise AIError("the model's reply was not a JSON object")
    return data
