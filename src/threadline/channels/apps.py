from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "threadline.channels"
    # "channels" is Django Channels' own label.
    label = "tl_channels"
    verbose_name = "Channels"

    def ready(self) -> None:
        from threadline.channels import intake
        from threadline.jobs import scheduler, worker

        if intake.move not in worker.BEFORE_CLAIM:
            worker.BEFORE_CLAIM.append(intake.move)
            scheduler.DEPTH_SOURCES.append(intake.depths)
